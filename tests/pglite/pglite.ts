import { readFile } from 'node:fs/promises'
import { PGlite, type Transaction } from '@electric-sql/pglite'
import { pgcrypto } from '@electric-sql/pglite/contrib/pgcrypto'
import { uuid_ossp } from '@electric-sql/pglite/contrib/uuid_ossp'
import {
  BOOTSTRAP_FILE,
  listMigrations,
  MIGRATIONS_DIR,
  SEED_FILE,
} from '../../packages/db/src/migrate.ts'
import { splitStatements } from '../../packages/db/src/split.ts'

/** Opens a PGlite (in memory unless `dataDir`) with the extensions the bootstrap creates. */
export const openPglite = (options: { dataDir?: string } = {}): Promise<PGlite> =>
  PGlite.create({ ...options, extensions: { pgcrypto, uuid_ossp } })

const hasSchema = async (pg: PGlite, name: string): Promise<boolean> => {
  const { rows } = await pg.query<{ exists: boolean }>(
    'select exists (select from pg_catalog.pg_namespace where nspname = $1) as exists',
    [name],
  )
  return rows[0]?.exists ?? false
}

// Names the failing file in the message but keeps PGlite's error (and its SQLSTATE `code`).
const inFile = async <T>(file: string, run: () => Promise<T>): Promise<T> => {
  try {
    return await run()
  } catch (error) {
    if (error instanceof Error) error.message = `${file}: ${error.message}`
    throw error
  }
}

/**
 * Prepares a PGlite as packages/db prepares Postgres: the Supabase bootstrap (unless schema auth
 * exists), each not-yet-recorded migration in its own transaction, recorded as the Supabase CLI
 * records it, then the seed; returns the versions applied.
 */
export const applyDatabase = async (
  pg: PGlite,
  dir: string = MIGRATIONS_DIR,
): Promise<string[]> => {
  if (!(await hasSchema(pg, 'auth'))) {
    const bootstrap = await readFile(BOOTSTRAP_FILE, 'utf8')
    await inFile(BOOTSTRAP_FILE, () => pg.transaction((tx) => tx.exec(bootstrap)))
  }
  await pg.exec(`
    create schema if not exists supabase_migrations;
    create table if not exists supabase_migrations.schema_migrations (
      version text not null primary key);
    alter table supabase_migrations.schema_migrations add column if not exists statements text[];
    alter table supabase_migrations.schema_migrations add column if not exists name text;`)
  const applied: string[] = []
  for (const migration of await listMigrations(dir)) {
    const text = await readFile(migration.file, 'utf8')
    const ran = await inFile(migration.file, () =>
      pg.transaction(async (tx) => {
        const done = await tx.query(
          'select from supabase_migrations.schema_migrations where version = $1',
          [migration.version],
        )
        if (done.rows.length > 0) return false
        await tx.exec(text)
        await tx.query(
          `insert into supabase_migrations.schema_migrations (version, name, statements)
          values ($1, $2, $3)`,
          [migration.version, migration.name, splitStatements(text)],
        )
        return true
      }),
    )
    if (ran) applied.push(migration.version)
  }
  const seed = await readFile(SEED_FILE, 'utf8')
  await inFile(SEED_FILE, () => pg.transaction((tx) => tx.exec(seed)))
  return applied
}

/** JWT claims as Supabase Auth issues them; `role` picks the database role, as PostgREST does. */
export type Claims = { role: string; [claim: string]: unknown }

const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`

/**
 * Runs `fn` in one transaction as PostgREST runs a request with these claims (`set local role`
 * from `claims.role`, `request.jwt.claims`); rolled back unless `commit`.
 */
export const withClaims = <T>(
  pg: PGlite,
  claims: Claims,
  fn: (tx: Transaction) => Promise<T>,
  options: { commit?: boolean } = {},
): Promise<T> =>
  pg.transaction(async (tx) => {
    await tx.query(`set local role ${quoteIdent(claims.role)}`)
    await tx.query("select pg_catalog.set_config('request.jwt.claims', $1, true)", [
      JSON.stringify(claims),
    ])
    const result = await fn(tx)
    if (!options.commit) await tx.rollback()
    return result
  })
