/**
 * `npm start [-- --reset] [--data-dir <dir>]`: every edge function on
 * http://127.0.0.1:${PORT:-54321}/functions/v1/<name>, on the embedded PGlite of the data folder
 * (or DATABASE_URL), with migrations and seed applied first.
 */
import { isAbsolute, relative } from 'node:path'
import { parseArgs } from 'node:util'
import { type Env, readEnv } from '../../core/src/env.ts'
import { ApiError } from '../../core/src/http.ts'
import { REPO_ROOT } from '../../db/src/migrate.ts'
import { dataDirFrom, jwtSecretFor } from './data-dir.ts'
import { type Prepared, prepareDatabase } from './database.ts'
import { openEmbedded } from './embedded.ts'
import { FUNCTIONS_PATH, gateway, loadFunctions, missingSettings } from './gateway.ts'
import { serveHttp } from './http.ts'
import { startWorker } from './worker.ts'

/** The port Supabase's local stack serves on, and ours unless PORT says otherwise. */
const DEFAULT_PORT = 54321

const out = (text: string) => process.stdout.write(`${text}\n`)

// Paths inside the project relative to it, others as they are.
const shown = (path: string): string => {
  if (!isAbsolute(path)) return path
  const inside = relative(REPO_ROOT, path)
  return inside && !inside.startsWith('..') ? inside : path
}

const wait = (ms: number) => new Promise((done) => setTimeout(done, ms))

const fail = (message: string, code = 1): never => {
  process.stderr.write(`npm start: ${message}\n`)
  process.exit(code)
}

const { values: flags } = parseArgs({
  args: process.argv.slice(2),
  options: { reset: { type: 'boolean', default: false }, 'data-dir': { type: 'string' } },
})
const dataDir = dataDirFrom(flags['data-dir'], process.env)
const externalUrl = process.env.DATABASE_URL || process.env.SUPABASE_DB_URL

const parsedEnv = (variables: NodeJS.ProcessEnv): Env => {
  try {
    return readEnv(variables)
  } catch (error) {
    const invalid =
      error instanceof ApiError ? (error.details as { invalid?: string[] }).invalid : []
    return fail(`invalid settings: ${invalid?.join(', ') ?? String(error)}`, 2)
  }
}
const port = parsedEnv(process.env).PORT ?? DEFAULT_PORT

if (flags.reset && externalUrl) {
  fail('--reset starts the embedded database over; reset DATABASE_URL with `supabase db reset`', 2)
}

// The functions load (Stripe SDK, zod...) while PGlite opens.
const functions = loadFunctions()

type Database = {
  url: string
  label: string
  prepared: Prepared
  /** Tells `npm run token` where the stack serves. */
  announce: (url: string) => Promise<void>
  close: () => Promise<void>
}

const openDatabase = async (): Promise<Database> => {
  if (externalUrl) {
    const prepared = await prepareDatabase(externalUrl)
    const { host, pathname } = new URL(externalUrl)
    const nothing = async () => {}
    const label = `${host}${pathname} (DATABASE_URL)`
    return { url: externalUrl, label, prepared, announce: nothing, close: nothing }
  }
  let embedded = await openEmbedded(dataDir, { reset: flags.reset })
  // `npm run token` holds the database for a moment when no stack runs; a stack does not let go.
  for (let tries = 0; 'heldBy' in embedded && !embedded.heldBy.url && tries < 150; tries += 1) {
    await wait(200)
    embedded = await openEmbedded(dataDir, { reset: flags.reset })
  }
  if ('heldBy' in embedded) {
    const where = embedded.heldBy.url ? ` at ${embedded.heldBy.url}` : ''
    return fail(
      `${shown(dataDir)} is in use by process ${embedded.heldBy.pid}${where}; stop it first`,
    )
  }
  const reset = flags.reset ? ' (reset)' : ''
  return { ...embedded, label: `embedded PGlite in ${shown(embedded.dir)}${reset}` }
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error))

const opening = openDatabase().catch((error: unknown) =>
  fail(`the database could not be prepared: ${messageOf(error)}`),
)

// Installed before the database opens: a Ctrl-C during a first start must not cut PGlite off.
let signalled = false
let stopHttp: (() => Promise<void>) | undefined
let stopWorker: (() => Promise<void>) | undefined
const shutDown = async (signal: string): Promise<void> => {
  out(`\n${signal}: finishing requests in flight, then closing the database…`)
  try {
    await stopWorker?.()
    await stopHttp?.()
    await (await opening).close()
    out('stopped')
    process.exit(0)
  } catch (error) {
    process.stderr.write(`shutdown failed: ${messageOf(error)}\n`)
    process.exit(1)
  }
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (signalled) return fail(`${signal} again: exiting without waiting`, 130)
    signalled = true
    void shutDown(signal)
  })
}

const serve = async (database: Database): Promise<void> => {
  const secret = await jwtSecretFor(dataDir, process.env)
  const bindings: Record<string, string> = {
    DATABASE_URL: database.url,
    SUPABASE_JWT_SECRET: secret.secret,
  }
  // PGlite is one backend session shared by every pool connection: named statements would pile
  // up there with each reconnect (nothing deallocates them), so the embedded database gets none.
  if (!externalUrl && !process.env.TOLLGATE_DB_PREPARE) bindings.TOLLGATE_DB_PREPARE = 'false'
  // Emails need a sender and the app's address; without RESEND_API_KEY they are printed, not sent.
  if (!process.env.TOLLGATE_EMAIL_FROM) bindings.TOLLGATE_EMAIL_FROM = 'Tollgate <billing@localhost>'
  if (!process.env.TOLLGATE_APP_URL) bindings.TOLLGATE_APP_URL = 'http://localhost:3000'
  const env = parsedEnv({ ...process.env, ...bindings })
  const apps = await functions
  if (signalled) return
  const http = await serveHttp(gateway(apps, bindings), {
    port,
    log: (line) => out(`${new Date().toISOString().slice(11, 19)} ${line}`),
  })
  stopHttp = http.stop
  await database.announce(http.url)
  stopWorker = startWorker({
    databaseUrl: database.url,
    jwtSecret: secret.secret,
    handle: gateway(apps, bindings),
    log: (line) => out(`${new Date().toISOString().slice(11, 19)} ${line}`),
  })

  const base = `${http.url}${FUNCTIONS_PATH}`
  const { prepared } = database
  const applied = [
    prepared.bootstrapped ? 'Supabase bootstrap' : '',
    prepared.migrations.length ? `migrations ${prepared.migrations.join(', ')}` : '',
    prepared.seeded ? 'seed' : '',
  ].filter(Boolean)
  const missing = missingSettings(env)
  out(
    [
      `Tollgate local stack ready in ${(performance.now() / 1000).toFixed(1)} s`,
      '',
      ...Object.keys(apps).map((name) => `  ${name.padEnd(18)} ${base}/${name}`),
      '',
      `Database    ${database.label}`,
      `            ${applied.length ? `applied: ${applied.join(', ')}` : 'up to date'}`,
      ...(externalUrl
        ? []
        : [`            psql ${database.url}  (one shared session: keep transactions short)`]),
      `JWT secret  ${secret.secret}  (from ${shown(secret.from)})`,
      '',
      'Next:',
      `  npm run -s token -- you@example.com [--admin]    a user and its access token${
        externalUrl ? ' (with the same DATABASE_URL)' : ''
      }`,
      `  curl -X POST ${base}/billing/checkout -H "Authorization: Bearer $TOKEN" \\`,
      `       -H 'content-type: application/json' -d '{"plan_id":"pro"}'`,
      `  stripe listen --forward-to localhost:${http.port}${FUNCTIONS_PATH}/stripe-webhook`,
      '       then set STRIPE_WEBHOOK_SECRET to the whsec_... it prints and restart',
      ...(missing.length
        ? [
            '',
            'Not configured (these answer 503 NOCFG naming the variable until set):',
            ...missing.map((setting) => `  ${setting.name.padEnd(24)} ${setting.needed}`),
          ]
        : []),
      '',
      `Every 5 s    maintenance and the notifications worker (emails ${
        env.RESEND_API_KEY ? 'sent through Resend' : 'printed: RESEND_API_KEY is not set'
      })`,
      '',
      'Ctrl-C stops (requests in flight finish, the database closes cleanly).',
    ].join('\n'),
  )
}

const database = await opening
if (!signalled) {
  await serve(database).catch(async (error: unknown) => {
    await database.close().catch(() => {})
    fail(messageOf(error))
  })
}
