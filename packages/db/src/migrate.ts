import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Sql } from 'postgres'
import { splitStatements } from './split.ts'

/** The repository root, resolved from this file so callers may run from any directory. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/** The Supabase-compatibility bootstrap script. */
export const BOOTSTRAP_FILE = fileURLToPath(
  new URL('../bootstrap/supabase_compat.sql', import.meta.url),
)

/** The append-only migration history the Supabase CLI pushes. */
export const MIGRATIONS_DIR = join(REPO_ROOT, 'supabase', 'migrations')

/** The seed script (plans, limits, coupons). */
export const SEED_FILE = join(REPO_ROOT, 'supabase', 'seed.sql')

/** The declarative schema, one object per file. */
export const SQL_DIR = join(REPO_ROOT, 'sql')

/** One migration file: `<version>_<name>.sql`, as the Supabase CLI names and records it. */
export type Migration = { version: string; name: string; file: string }

// The Supabase CLI's own pattern (pkg/migration/file.go); other files in the folder are ignored.
const MIGRATION_FILE = /^([0-9]+)_(.*)\.sql$/

// Serialises concurrent appliers on the same database (two test workers, two setups).
const LOCK_KEY = 'tollgate:migrations'

// Names the failing file in the message but keeps the driver's error (and its SQLSTATE `code`).
const inFile = async <T>(file: string, run: () => Promise<T>): Promise<T> => {
  try {
    return await run()
  } catch (error) {
    if (error instanceof Error) error.message = `${relative(REPO_ROOT, file)}: ${error.message}`
    throw error
  }
}

const isMissing = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT'

const listSqlFiles = async (dir: string): Promise<string[]> => {
  try {
    const entries = await readdir(dir, { withFileTypes: true })
    return entries
      .filter((entry) => entry.isFile() && entry.name.endsWith('.sql'))
      .map((entry) => entry.name)
      .sort()
  } catch (error) {
    if (isMissing(error)) return []
    throw error
  }
}

const readIfExists = async (file: string): Promise<string | undefined> => {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    if (isMissing(error)) return undefined
    throw error
  }
}

/** Lists the migration files of a directory in version order; a missing directory has none. */
export const listMigrations = async (dir: string = MIGRATIONS_DIR): Promise<Migration[]> =>
  (await listSqlFiles(dir)).flatMap((fileName) => {
    const match = MIGRATION_FILE.exec(fileName)
    return match?.[1] !== undefined && match[2] !== undefined
      ? [{ version: match[1], name: match[2], file: join(dir, fileName) }]
      : []
  })

/** Applies the Supabase-compatibility bootstrap (as a superuser) unless schema `auth` exists; returns whether it ran. */
export const applyBootstrap = async (
  sql: Sql,
  options: { force?: boolean } = {},
): Promise<boolean> => {
  if (!options.force) {
    const [row] = await sql<{ exists: boolean }[]>`
      select exists (select from pg_catalog.pg_namespace where nspname = 'auth') as exists`
    if (row?.exists) return false
  }
  const script = await readFile(BOOTSTRAP_FILE, 'utf8')
  await sql.begin((tx) => tx.unsafe(script))
  return true
}

/** Creates `supabase_migrations.schema_migrations` with the exact statements the Supabase CLI uses. */
export const ensureMigrationTable = async (sql: Sql): Promise<void> => {
  await sql.begin(async (tx) => {
    await tx`select pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext(${LOCK_KEY}))`
    await tx.unsafe('create schema if not exists supabase_migrations')
    await tx.unsafe(
      'create table if not exists supabase_migrations.schema_migrations (version text not null primary key)',
    )
    await tx.unsafe(
      'alter table supabase_migrations.schema_migrations add column if not exists statements text[]',
    )
    await tx.unsafe(
      'alter table supabase_migrations.schema_migrations add column if not exists name text',
    )
  })
}

/**
 * The versions a baseline migration replaces, from its `-- squashes: <version> <version> …` header
 * line (before its first statement); [] for an ordinary migration.
 */
export const squashedVersions = (text: string): string[] => {
  for (const line of text.split('\n')) {
    const trimmed = line.trim()
    if (trimmed === '') continue
    if (!trimmed.startsWith('--')) return []
    const match = /^--\s*squashes:\s*(.*)$/.exec(trimmed)
    if (match?.[1] !== undefined) return match[1].split(/\s+/).filter((v) => /^[0-9]+$/.test(v))
  }
  return []
}

/** Thrown when a database holds part of a squashed history: neither the baseline nor its sources fit it. */
export class PartlySquashedHistory extends Error {}

/** Applies each not-yet-recorded migration in version order, one transaction each; returns the versions applied. */
export const applyMigrations = async (
  sql: Sql,
  dir: string = MIGRATIONS_DIR,
): Promise<string[]> => {
  const migrations = await listMigrations(dir)
  await ensureMigrationTable(sql)
  const applied: string[] = []
  for (const migration of migrations) {
    const text = await readFile(migration.file, 'utf8')
    const statements = splitStatements(text)
    const ran = await inFile(migration.file, () =>
      sql.begin(async (tx) => {
        await tx`select pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext(${LOCK_KEY}))`
        const [done] = await tx`
          select from supabase_migrations.schema_migrations where version = ${migration.version}`
        if (done) return false
        const squashes = squashedVersions(text)
        if (squashes.length > 0) {
          const recorded = await tx<{ version: string }[]>`
            select version from supabase_migrations.schema_migrations
            where version = any(${squashes}::text[])`
          if (recorded.length === squashes.length) {
            // Built by the history this baseline replaces, which makes the same schema: record it only.
            await tx`
              insert into supabase_migrations.schema_migrations (version, name, statements)
              values (${migration.version}, ${migration.name}, '{}'::text[])`
            return false
          }
          if (recorded.length > 0) {
            throw new PartlySquashedHistory(
              `the database recorded ${recorded.length} of the ${squashes.length} migrations that ` +
                `${migration.version}_${migration.name} squashes (missing: ` +
                `${squashes.filter((v) => !recorded.some((r) => r.version === v)).join(', ')}); ` +
                'rebuild it (npm start -- --reset) or apply the old history first',
            )
          }
        }
        if (statements.length > 0) await tx.unsafe(text)
        await tx`
          insert into supabase_migrations.schema_migrations (version, name, statements)
          values (${migration.version}, ${migration.name}, ${statements}::text[])`
        return true
      }),
    )
    if (ran) applied.push(migration.version)
  }
  return applied
}

/** Runs the seed script in one transaction and records it as the Supabase CLI does; a missing file is skipped (false). */
export const applySeed = async (sql: Sql, file: string = SEED_FILE): Promise<boolean> => {
  const text = await readIfExists(file)
  if (text === undefined) return false
  const hash = createHash('sha256').update(text).digest('hex')
  const path = relative(REPO_ROOT, file)
  await inFile(file, () =>
    sql.begin(async (tx) => {
      if (splitStatements(text).length > 0) await tx.unsafe(text)
      await tx.unsafe('create schema if not exists supabase_migrations')
      await tx.unsafe(
        'create table if not exists supabase_migrations.seed_files (path text not null primary key, hash text not null)',
      )
      await tx`
      insert into supabase_migrations.seed_files (path, hash) values (${path}, ${hash})
      on conflict (path) do update set hash = excluded.hash`
    }),
  )
  return true
}

/** Applies every `*.sql` file of the declarative `sql/` folder in file-name order in one transaction; returns the file names. */
export const applySqlDir = async (sql: Sql, dir: string = SQL_DIR): Promise<string[]> => {
  const files = await listSqlFiles(dir)
  await sql.begin(async (tx) => {
    for (const fileName of files) {
      const file = join(dir, fileName)
      const text = await readFile(file, 'utf8')
      if (splitStatements(text).length > 0) await inFile(file, () => tx.unsafe(text))
    }
  })
  return files
}
