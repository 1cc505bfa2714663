/**
 * `npm run db:setup`: on DATABASE_URL (else SUPABASE_DB_URL), apply the Supabase-compatibility
 * bootstrap where the auth schema is missing, then the migrations not yet applied, then the seed.
 */
import postgres from 'postgres'
import { applyBootstrap, applyMigrations, applySeed } from '../migrate.ts'

const url = process.env.DATABASE_URL ?? process.env.SUPABASE_DB_URL
if (!url) {
  process.stderr.write('db:setup needs DATABASE_URL (or SUPABASE_DB_URL) to point at a Postgres database\n')
  process.exit(2)
}

const sql = postgres(url, { max: 1, onnotice: () => {}, prepare: false })
try {
  const bootstrapped = await applyBootstrap(sql)
  const applied = await applyMigrations(sql)
  const seeded = await applySeed(sql)
  process.stdout.write(
    [
      bootstrapped ? 'bootstrap: applied (auth schema was missing)' : 'bootstrap: skipped (auth exists)',
      `migrations: ${applied.length ? applied.join(', ') : 'none new'}`,
      `seed: ${seeded ? 'applied' : 'no seed file'}`,
    ].join('\n') + '\n',
  )
} catch (error) {
  const e = error as { message?: string; code?: string }
  process.stderr.write(`db:setup failed: ${e.code ? `[${e.code}] ` : ''}${e.message ?? String(error)}\n`)
  process.exitCode = 1
} finally {
  await sql.end()
}
