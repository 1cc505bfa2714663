import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { REPO_ROOT } from '../../packages/db/src/migrate.ts'
import { buildScratch, run, type Built } from './scratch.ts'

const external = inject('externalDatabase')

const SUPABASE = join(REPO_ROOT, 'node_modules', '.bin', 'supabase')
const EXPOSED = ['public', 'graphql_public', 'tollgate']
const OURS = ['tollgate', 'tollgate_private']

type Finding = {
  name: string
  level: string
  detail: string
  metadata?: { schema?: string; name?: string }
}

const readable = (f: Finding): string => `${f.level} ${f.name}: ${f.detail}`

// The one warning we keep: a procedure that commits cannot pin search_path (PostgreSQL forbids
// transaction control under a SET clause); every_function_pins_an_empty_search_path checks it is
// a security invoker no API role may call.
const expected = (f: Finding): boolean =>
  f.name === 'function_search_path_mutable' &&
  f.metadata?.schema === 'tollgate_private' &&
  f.metadata.name === 'maintain'

describe.skipIf(external)('supabase db advisors --type security', () => {
  let built: Built
  let workdir = ''

  const advise = async (): Promise<{ code: number | null; findings: Finding[] }> => {
    const url = new URL(built.url)
    url.searchParams.set('sslmode', 'disable')
    const result = await run(
      SUPABASE,
      [
        'db',
        'advisors',
        `--remote=${url.toString()}`,
        '--type',
        'security',
        '--fail-on',
        'error',
        '--yes',
        '--output-format',
        'json',
      ],
      { cwd: workdir },
    )
    let parsed: { results?: Finding[] }
    try {
      parsed = JSON.parse(result.stdout) as { results?: Finding[] }
    } catch {
      throw new Error(
        `supabase db advisors printed no JSON (exit ${result.code}): ${result.stderr}`,
      )
    }
    return { code: result.code, findings: parsed.results ?? [] }
  }

  beforeAll(async () => {
    built = await buildScratch('migrations', { seed: true })
    // The lints read the exposed schemas from pgrst.db_schemas; the CLI sets it per session from
    // [api] schemas of the config in its working directory, so both say tollgate is exposed.
    const admin = postgres(built.superuserUrl, { max: 1, onnotice: () => {} })
    try {
      const database = `"${built.name.replaceAll('"', '""')}"`
      await admin.unsafe(
        `alter database ${database} set pgrst.db_schemas = '${EXPOSED.join(', ')}'`,
      )
    } finally {
      await admin.end()
    }
    workdir = await mkdtemp(join(tmpdir(), 'tollgate-advisors-'))
    await mkdir(join(workdir, 'supabase'))
    await writeFile(
      join(workdir, 'supabase', 'config.toml'),
      `[api]\nschemas = [${EXPOSED.map((s) => `"${s}"`).join(', ')}]\n`,
    )
  })

  afterAll(async () => {
    await built?.close()
    if (workdir) await rm(workdir, { recursive: true, force: true })
  })

  it('finds no error anywhere and no warning in our schemas', async () => {
    const { code, findings } = await advise()
    const errors = findings.filter((f) => f.level === 'ERROR')
    const ourWarnings = findings.filter(
      (f) => f.level === 'WARN' && OURS.includes(f.metadata?.schema ?? '') && !expected(f),
    )
    expect([...errors, ...ourWarnings].map(readable)).toEqual([])
    expect(code).toBe(0)
  })

  it('sees tollgate as exposed (a table there without RLS is an ERROR)', async () => {
    // A canary: proves the run above would have caught a real finding in tollgate.
    await built.sql`create table tollgate.advisors_canary (id integer primary key)`
    await built.sql`grant select on tollgate.advisors_canary to anon`
    try {
      const { code, findings } = await advise()
      expect(
        findings
          .filter((f) => f.metadata?.schema === 'tollgate' && f.metadata.name === 'advisors_canary')
          .map((f) => `${f.level} ${f.name}`),
      ).toContain('ERROR rls_disabled_in_public')
      expect(code).toBe(1)
    } finally {
      await built.sql`drop table tollgate.advisors_canary`
    }
  })
})
