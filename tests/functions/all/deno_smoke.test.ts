import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../../../packages/db/src/migrate.ts'
import { DENO, denoEnv, serveWithDeno, type Served } from '../../helpers/deno.ts'

const FIXTURE = 'tests/fixtures/deno-hello/index.ts'
const SECRET = 'deno-smoke-secret-of-at-least-32-characters'

/** Every functions/<name>/index.ts, found when the test runs. */
const functionEntrypoints = async (): Promise<string[]> => {
  const dir = join(REPO_ROOT, 'functions')
  if (!existsSync(dir)) return []
  const entries = await readdir(dir, { withFileTypes: true })
  return entries
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'index.ts')))
    .map((e) => `functions/${e.name}/index.ts`)
    .sort()
}

const run = promisify(execFile)

const readJson = async (path: string): Promise<Record<string, unknown>> =>
  JSON.parse(await readFile(join(REPO_ROOT, path), 'utf8')) as Record<string, unknown>

describe('deno.json', () => {
  it('maps every import to the exact version package.json pins, read from node_modules', async () => {
    const deno = (await readJson('deno.json')) as {
      imports: Record<string, string>
      nodeModulesDir: string
    }
    const pkg = (await readJson('package.json')) as {
      dependencies: Record<string, string>
      devDependencies: Record<string, string>
    }
    const pinned = { ...pkg.devDependencies, ...pkg.dependencies }
    const mismatched = Object.entries(deno.imports).flatMap(([specifier, target]) => {
      const match = /^npm:\/?((?:@[^/@]+\/)?[^/@]+)@([^/]+)(\/.*)?$/.exec(target)
      const name = match?.[1] ?? ''
      const ok =
        match !== null &&
        (specifier === name || specifier.startsWith(`${name}/`)) &&
        pinned[name] === match[2]
      return ok ? [] : [`${specifier} -> ${target} (package.json: ${pinned[name] ?? 'missing'})`]
    })
    expect(mismatched).toEqual([])
    expect(deno.nodeModulesDir).toBe('manual')
  })
})

describe('deno check', () => {
  it('type-checks every function entrypoint, the fixture and the shared packages', async () => {
    const files = [
      ...(await functionEntrypoints()),
      FIXTURE,
      'packages/core/src/index.ts',
      'packages/db/src/client.ts',
    ]
    const result = await run(DENO, ['check', ...files], {
      cwd: REPO_ROOT,
      env: denoEnv(),
      maxBuffer: 16 * 1024 * 1024,
    }).then(
      ({ stderr }) => ({ code: 0, stderr }),
      (error: { code?: number; stderr?: string; stdout?: string }) => ({
        code: error.code ?? -1,
        stderr: `${error.stdout ?? ''}${error.stderr ?? ''}`,
      }),
    )
    expect(result, result.stderr).toMatchObject({ code: 0 })
    for (const file of files) expect(result.stderr).toContain(`Check ${file}`)
  }, 180_000)
})

const serveFixture = (): Promise<Served> =>
  serveWithDeno(FIXTURE, { SUPABASE_JWT_SECRET: SECRET, SUPABASE_URL: '' })

const waitUntilAnswering = async (url: string, attempts = 100): Promise<void> => {
  for (let i = 0; ; i += 1) {
    try {
      await fetch(url)
      return
    } catch (error) {
      if (i >= attempts) throw error
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

describe('the deno-hello fixture served by Deno', () => {
  let server: Served
  let token: string
  const userId = '2b0b5a5e-6c39-4a8e-9d3c-2f1b8c1d7e40'

  beforeAll(async () => {
    server = await serveFixture()
    await waitUntilAnswering(`${server.base}/deno-hello/me`)
    const now = Math.floor(Date.now() / 1000)
    token = await new SignJWT({ sub: userId, role: 'authenticated', aud: 'authenticated' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(new TextEncoder().encode(SECRET))
  }, 120_000)

  afterAll(async () => {
    await server?.stop()
  })

  it('refuses a request without a token (NOJWT)', async () => {
    const res = await fetch(`${server.base}/deno-hello/me`)
    expect(res.status).toBe(401)
    expect(await res.json()).toEqual({
      code: 'NOJWT',
      message: 'Sign in first',
      details: null,
      hint: null,
    })
  })

  it('answers a request with a valid HS256 token', async () => {
    const res = await fetch(`${server.base}/deno-hello/me`, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ id: userId })
  })

  it('parses a JSON body with zod', async () => {
    const res = await fetch(`${server.base}/deno-hello/greet`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ada' }),
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ greeting: 'Hello, Ada', user_id: userId })
  })

  it('refuses a body the schema rejects (BADRQ)', async () => {
    const res = await fetch(`${server.base}/deno-hello/greet`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: '' }),
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ code: 'BADRQ', details: [{ path: ['name'] }] })
  })

  it('refuses a body over 64 KiB (TOOBG)', async () => {
    const res = await fetch(`${server.base}/deno-hello/greet`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(70_000) }),
    })
    expect(res.status).toBe(413)
    expect(await res.json()).toHaveProperty('code', 'TOOBG')
  })

  it('answers an unknown path with 404 (NOTFD)', async () => {
    const res = await fetch(`${server.base}/elsewhere`)
    expect(res.status).toBe(404)
    expect(await res.json()).toHaveProperty('code', 'NOTFD')
  })
})
