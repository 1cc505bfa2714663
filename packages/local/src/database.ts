import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { relative } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { pgcrypto } from '@electric-sql/pglite/contrib/pgcrypto'
import { uuid_ossp } from '@electric-sql/pglite/contrib/uuid_ossp'
import postgres from 'postgres'
import {
  applyBootstrap,
  applyMigrations,
  applySeed,
  REPO_ROOT,
  SEED_FILE,
} from '../../db/src/migrate.ts'

/** Opens a PGlite (in memory unless `dataDir`) with the extensions the bootstrap creates. */
export const openPglite = (options: { dataDir?: string } = {}): Promise<PGlite> =>
  PGlite.create({ ...options, extensions: { pgcrypto, uuid_ossp } })

/** What `prepareDatabase` applied. */
export type Prepared = { bootstrapped: boolean; migrations: string[]; seeded: boolean }

// The seed runs again only when the file changed since it was recorded (as applySeed records it).
const seedIsCurrent = async (sql: postgres.Sql, file: string): Promise<boolean> => {
  const text = await readFile(file, 'utf8').catch(() => undefined)
  if (text === undefined) return true
  const hash = createHash('sha256').update(text).digest('hex')
  const [row] = await sql<{ current: boolean }[]>`
    select pg_catalog.to_regclass('supabase_migrations.seed_files') is not null as current`
  if (!row?.current) return false
  const [seed] = await sql`
    select from supabase_migrations.seed_files
    where path = ${relative(REPO_ROOT, file)} and hash = ${hash}`
  return seed !== undefined
}

/**
 * Brings a database up to date with packages/db, as `npm run db:setup` does: the
 * Supabase-compatibility bootstrap where `auth` is missing, the migrations not yet recorded in
 * supabase_migrations.schema_migrations, then the seed when it changed.
 */
export const prepareDatabase = async (
  url: string,
  options: { seedFile?: string } = {},
): Promise<Prepared> => {
  const seedFile = options.seedFile ?? SEED_FILE
  const sql = postgres(url, { max: 1, onnotice: () => {}, prepare: false })
  try {
    const bootstrapped = await applyBootstrap(sql)
    const migrations = await applyMigrations(sql)
    const seeded = (await seedIsCurrent(sql, seedFile)) ? false : await applySeed(sql, seedFile)
    return { bootstrapped, migrations, seeded }
  } finally {
    await sql.end()
  }
}
