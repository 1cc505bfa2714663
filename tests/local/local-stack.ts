import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeJwt } from 'jose'
import { REPO_ROOT } from '../../packages/db/src/migrate.ts'

// What `npm start` and `npm run token` run, spawned without npm, which does not pass SIGTERM on.
const NODE = process.execPath
const START = ['--import', 'tsx', 'packages/local/src/start.ts']
const TOKEN = ['--import', 'tsx', 'packages/local/src/token.ts']

// Settings of the test process that must not leak into the stack under test.
const ISOLATED =
  /^(DATABASE_URL|PORT|SUPABASE_(DB_URL|JWT_SECRET|URL)|TOLLGATE_.*|STRIPE_.*|RAZORPAY_.*)$/

/** The test process's environment without Tollgate's settings, plus `extra`. */
export const stackEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !ISOLATED.test(name))),
  ...extra,
})

/** A temporary data folder; `remove()` deletes it. */
export const tempDataDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tollgate-local-'))
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) }
}

/** A running local stack. */
export type Stack = {
  /** `http://127.0.0.1:<port>/functions/v1` */
  functions: string
  output: () => string
  /** Sends `signal` and resolves with the exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>
}

const exitOf = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.once('exit', (code) => resolve(code)))

const READY =
  /ready in[\s\S]*billing\s+(http:\/\/127\.0\.0\.1:\d+\/functions\/v1)\/billing[\s\S]*Ctrl-C stops/

/** Starts `npm start` (PORT 0: a free port) and waits until it prints that it is ready. */
export const startStack = async (env: NodeJS.ProcessEnv, args: string[] = []): Promise<Stack> => {
  const child = spawn(NODE, [...START, ...args], {
    cwd: REPO_ROOT,
    env: { ...env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    return exitOf(child)
  }
  const functions = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const ready = READY.exec(output)
      if (ready?.[1]) {
        child.stdout.off('data', check)
        child.off('exit', exited)
        resolve(ready[1])
      }
    }
    const exited = (code: number | null) =>
      reject(new Error(`npm start exited (${code}) before it was ready:\n${output}`))
    child.stdout.on('data', check)
    child.once('exit', exited)
  })
  return { functions, output: () => output, stop }
}

/** Runs `npm start` expecting it to refuse; resolves with its exit code and output. */
export const refusedStart = async (env: NodeJS.ProcessEnv, args: string[]) => {
  const child = spawn(NODE, [...START, ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  const code = await exitOf(child)
  return { code, output }
}

/** `npm run -s token -- <email> [--admin]`: the token and its claims. */
export const token = async (env: NodeJS.ProcessEnv, email: string, args: string[] = []) => {
  const child = spawn(NODE, [...TOKEN, email, ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const code = await exitOf(child)
  if (code !== 0) throw new Error(`npm run token exited ${code}:\n${stderr}`)
  const jwt = stdout.trim()
  return { jwt, claims: decodeJwt(jwt) }
}

/** POSTs JSON to a function with the token; the status and parsed body. */
export const post = async (url: string, jwt: string, body: unknown) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as unknown }
}
