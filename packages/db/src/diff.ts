import { randomUUID } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { startCluster } from './cluster.ts'
import { dumpDifference, dumpTollgateSchemas } from './dump.ts'
import { runCommand } from './run.ts'
import { applyBootstrap, applyMigrations, applySqlDir, MIGRATIONS_DIR, REPO_ROOT, SQL_DIR } from './migrate.ts'

export { runCommand, type CommandResult } from './run.ts'

/** The schemas the project owns; the diff looks at these only. */
export const TOLLGATE_SCHEMAS = ['tollgate', 'tollgate_private'] as const

/** The Supabase CLI the project pins (npm `supabase`). */
export const SUPABASE_BIN = join(REPO_ROOT, 'node_modules', '.bin', 'supabase')

/** A database URL as the Supabase CLI wants it for a plain Postgres (`sslmode=disable`). */
export const cliUrl = (url: string): string => {
  const parsed = new URL(url)
  if (!parsed.searchParams.has('sslmode')) parsed.searchParams.set('sslmode', 'disable')
  return parsed.toString()
}

/** `url` with its database name replaced by `database`. */
export const onDatabase = (url: string, database: string): string => {
  const parsed = new URL(url)
  parsed.pathname = `/${encodeURIComponent(database)}`
  return parsed.toString()
}

/** A Postgres server on which throwaway databases can be created and dropped. */
export type Server = {
  /** A URL allowed to `create database` and to run the bootstrap (a superuser). */
  adminUrl: string
  /** The URL of database `name` as the role that applies migrations (the owner `postgres` on our cluster). */
  ownerUrl: (name: string) => string
  /** Stops the server when it is ours; a no-op for DATABASE_URL's server. */
  stop: () => Promise<void>
}

/** Our own throwaway cluster, or DATABASE_URL's server when `databaseUrl` is given. */
export const openServer = async (databaseUrl?: string): Promise<Server> => {
  if (databaseUrl) {
    return {
      adminUrl: databaseUrl,
      ownerUrl: (name) => onDatabase(databaseUrl, name),
      stop: async () => {},
    }
  }
  const cluster = await startCluster()
  return {
    adminUrl: cluster.superuserUrl,
    ownerUrl: (name) => cluster.url(name),
    stop: () => cluster.stop(),
  }
}

/** A bootstrapped throwaway database; `drop()` removes it. */
export type ThrowawayDatabase = { name: string; url: string; drop: () => Promise<void> }

/**
 * Creates a throwaway database on `server`, applies the Supabase-compatibility bootstrap as the
 * admin, then (as the owner) either the migrations of `dir` or every file of the declarative `dir`.
 */
export const buildDatabase = async (
  server: Server,
  from: { migrations: string } | { sql: string },
): Promise<ThrowawayDatabase> => {
  const name = `tollgate_diff_${randomUUID().replaceAll('-', '').slice(0, 12)}`
  const admin = postgres(server.adminUrl, { max: 1, onnotice: () => {} })
  const drop = async (): Promise<void> => {
    await admin`drop database if exists ${admin(name)} with (force)`
    await admin.end()
  }
  try {
    await admin`create database ${admin(name)}`
    const superuser = postgres(onDatabase(server.adminUrl, name), { max: 1, onnotice: () => {} })
    try {
      await applyBootstrap(superuser)
    } finally {
      await superuser.end()
    }
    const url = server.ownerUrl(name)
    const owner = postgres(url, { max: 1, onnotice: () => {}, prepare: false })
    try {
      if ('migrations' in from) await applyMigrations(owner, from.migrations)
      else await applySqlDir(owner, from.sql)
    } finally {
      await owner.end()
    }
    return { name, url, drop }
  } catch (error) {
    await drop()
    throw error
  }
}

/** Thrown when the Supabase CLI cannot produce a diff; the message says why. */
export class DiffFailed extends Error {}

/** How long the CLI may take before it is killed (ms). */
const CLI_TIMEOUT = 300_000

// No SUPABASE_* or PG* variable of the caller may steer the CLI (SUPABASE_WORKDIR, PGSSLMODE…).
const cliEnv = (): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(SUPABASE_|PG)/.test(key)),
  ),
  DO_NOT_TRACK: '1',
  SUPABASE_TELEMETRY_DISABLED: '1',
})

/**
 * The SQL that moves database `fromUrl` to the schema of `toUrl`, as `supabase db diff --from --to`
 * prints it, limited to Tollgate's schemas; '' when they do not differ.
 */
export const supabaseDiff = async (
  fromUrl: string,
  toUrl: string,
  options: { bin?: string } = {},
): Promise<string> => {
  const workdir = await mkdtemp(join(tmpdir(), 'tollgate-diff-'))
  try {
    // The CLI wants a project folder (supabase/); an empty one keeps the repository's config out.
    await mkdir(join(workdir, 'supabase'))
    const output = join(workdir, 'diff.sql')
    const args = [
      '--workdir',
      workdir,
      '--agent',
      'no',
      'db',
      'diff',
      `--from=${cliUrl(fromUrl)}`,
      `--to=${cliUrl(toUrl)}`,
      `--schema=${TOLLGATE_SCHEMAS.join(',')}`,
      `--output=${output}`,
      '--yes',
    ]
    const result = await runCommand(options.bin ?? SUPABASE_BIN, args, {
      cwd: workdir,
      env: cliEnv(),
      timeout: CLI_TIMEOUT,
    })
    if (result.code !== 0) {
      throw new DiffFailed(
        `supabase db diff exited ${result.code ?? 'on a signal (timeout?)'}:\n${result.stderr}\n${result.stdout}`,
      )
    }
    let text: string
    try {
      text = await readFile(output, 'utf8')
    } catch {
      text = result.stdout
    }
    return meaningful(text) ? text.trim() + '\n' : ''
  } finally {
    await rm(workdir, { recursive: true, force: true })
  }
}

/** Whether SQL text holds anything but comments and blank lines. */
export const meaningful = (text: string): boolean =>
  text
    .split('\n')
    .map((line) => line.trim())
    .some((line) => line !== '' && !line.startsWith('--'))

/** `YYYYMMDDHHmmss` of `date` in UTC, the migration version format. */
export const migrationTimestamp = (date: Date): string =>
  date.toISOString().replace(/[-:T]/g, '').slice(0, 14)

/** The comment every generated migration starts with. */
export const migrationHeader = (name: string): string =>
  [
    `-- Migration ${name}: generated by \`npm run db:diff -- ${name}\` from the difference between`,
    '-- supabase/migrations and sql/. Do not edit it once it is on main. Hand edits are allowed only',
    '-- where a diff cannot express intent (data moves), each marked with a `-- hand edit:` comment.',
    '',
  ].join('\n')

/** Options of `generateMigration`. */
export type GenerateOptions = {
  /** The migration's name, the `<name>` of `<timestamp>_<name>.sql`. */
  name: string
  sqlDir?: string
  migrationsDir?: string
  /** Build the throwaway databases on this URL's server instead of an own cluster. */
  databaseUrl?: string
  /** Build them on this server (wins over `databaseUrl`; left running). */
  server?: Server
  /** The migration's timestamp (default now). */
  now?: Date
  /** The Supabase CLI binary. */
  bin?: string
}

/**
 * What `generateMigration` did: the file written, or none when the schemas already agree, and what
 * the written migrations still leave different from sql/ (`dumpDifference` lines; [] when none):
 * what the diff tool cannot express, for hand edits.
 */
export type GenerateResult = { file: string | undefined; diff: string; missed: string[] }

/** Migration names: what the CLI accepts in a file name, no spaces or path separators. */
const NAME = /^[a-z0-9_]+$/

/**
 * Builds one database from the migrations and one from sql/, diffs them with the Supabase CLI and
 * writes `<migrationsDir>/<timestamp>_<name>.sql`; writes nothing when they do not differ.
 */
export const generateMigration = async (options: GenerateOptions): Promise<GenerateResult> => {
  if (!NAME.test(options.name)) {
    throw new DiffFailed(`migration name must match ${NAME} (got ${JSON.stringify(options.name)})`)
  }
  const migrationsDir = options.migrationsDir ?? MIGRATIONS_DIR
  const sqlDir = options.sqlDir ?? SQL_DIR
  const server = options.server
    ? { ...options.server, stop: async () => {} }
    : await openServer(options.databaseUrl)
  try {
    const fromMigrations = await buildDatabase(server, { migrations: migrationsDir })
    try {
      const fromSql = await buildDatabase(server, { sql: sqlDir })
      try {
        const diff = await supabaseDiff(fromMigrations.url, fromSql.url, { bin: options.bin })
        const dumpOf = (db: ThrowawayDatabase): Promise<string> =>
          dumpTollgateSchemas(onDatabase(server.adminUrl, db.name))
        if (diff === '') {
          const missed = dumpDifference(await dumpOf(fromSql), await dumpOf(fromMigrations))
          return { file: undefined, diff, missed }
        }
        const version = migrationTimestamp(options.now ?? new Date())
        const file = join(migrationsDir, `${version}_${options.name}.sql`)
        await mkdir(migrationsDir, { recursive: true })
        await writeFile(file, migrationHeader(options.name) + '\n' + diff, { flag: 'wx' })
        // Checks its own result: the migrations with the new file against sql/, as pg_dump sees them.
        const rebuilt = await buildDatabase(server, { migrations: migrationsDir })
        try {
          const missed = dumpDifference(await dumpOf(fromSql), await dumpOf(rebuilt))
          return { file, diff, missed }
        } finally {
          await rebuilt.drop()
        }
      } finally {
        await fromSql.drop()
      }
    } finally {
      await fromMigrations.drop()
    }
  } finally {
    await server.stop()
  }
}
