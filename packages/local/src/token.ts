/**
 * `npm run -s token -- <email> [--admin] [--expires-in <seconds>] [--data-dir <dir>]`: creates the
 * email user in auth.users if new and prints an access token the local stack accepts.
 *
 * Which database: DATABASE_URL (else SUPABASE_DB_URL) when set; else the embedded one of the data
 * folder, through the running local stack's port when it runs (PGlite must be opened by one
 * process only), or opened here for the moment when it does not.
 */
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { MAX_TOKEN_LIFETIME_SECONDS } from '../../core/src/auth.ts'
import { dataDirFrom, databaseHolder, jwtSecretFor } from './data-dir.ts'
import { openEmbedded } from './embedded.ts'
import { accessClaims, ensureUser, signAccessToken } from './users.ts'

const USAGE =
  'usage: npm run -s token -- <email> [--admin] [--expires-in <seconds>] [--data-dir <dir>]'

const fail = (message: string, code = 1): never => {
  process.stderr.write(`${message}\n`)
  process.exit(code)
}

const { values: flags, positionals } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: {
    admin: { type: 'boolean', default: false },
    'expires-in': { type: 'string', default: '3600' },
    'data-dir': { type: 'string' },
  },
})
const [email] = positionals
if (!email || positionals.length > 1 || !/^[^\s@]+@[^\s@]+$/.test(email)) fail(USAGE, 2)
const expiresIn = Number(flags['expires-in'])
if (!Number.isSafeInteger(expiresIn) || expiresIn <= 0) fail(USAGE, 2)
// The functions refuse tokens that live longer than Supabase Auth's longest expiry.
if (expiresIn > MAX_TOKEN_LIFETIME_SECONDS) fail(`--expires-in is at most ${MAX_TOKEN_LIFETIME_SECONDS} (a week)`, 2)

const dataDir = dataDirFrom(flags['data-dir'], process.env)
const wait = (ms: number) => new Promise((done) => setTimeout(done, ms))

/** Runs `fn` on the database the local stack uses (see the header). */
const onDatabase = async <T>(fn: (url: string) => Promise<T>): Promise<T> => {
  const externalUrl = process.env.DATABASE_URL || process.env.SUPABASE_DB_URL
  if (externalUrl) return fn(externalUrl)
  // A local stack still opening its database announces the port within seconds.
  for (const deadline = performance.now() + 60_000; performance.now() < deadline;) {
    const holder = await databaseHolder(dataDir)
    if (holder?.databaseUrl) return fn(holder.databaseUrl)
    if (!holder) {
      const embedded = await openEmbedded(dataDir)
      if ('heldBy' in embedded) continue
      try {
        return await fn(embedded.url)
      } finally {
        await embedded.close()
      }
    }
    await wait(200)
  }
  return fail(`the embedded database in ${dataDir} stayed busy; is a local stack stuck starting?`)
}

const port = process.env.PORT || '54321'
const projectUrl = process.env.SUPABASE_URL?.replace(/\/+$/, '') ?? `http://127.0.0.1:${port}`
const issuer = `${projectUrl}/auth/v1`

try {
  const { secret } = await jwtSecretFor(dataDir, process.env)
  const user = await onDatabase(async (url) => {
    const sql = postgres(url, { max: 1, prepare: false, onnotice: () => {} })
    try {
      return await ensureUser(sql, email!, { admin: flags.admin })
    } finally {
      await sql.end()
    }
  })
  const token = await signAccessToken(accessClaims(user, { issuer, expiresIn }), secret)
  const admin = user.app_metadata.role === 'admin' ? ', admin' : ''
  process.stderr.write(
    `${user.created ? 'created' : 'existing'} user ${user.email} ${user.id}${admin}; ` +
      `token valid ${expiresIn} s (Authorization: Bearer <token>)\n`,
  )
  process.stdout.write(`${token}\n`)
} catch (error) {
  fail(`token: ${error instanceof Error ? error.message : String(error)}`)
}
