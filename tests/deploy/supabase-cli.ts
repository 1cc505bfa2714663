import { join } from 'node:path'
import { cliUrl } from '../../packages/db/src/diff.ts'
import { REPO_ROOT } from '../../packages/db/src/migrate.ts'
import { run, type RunResult } from '../schema/scratch.ts'

/** Options of `runCommand`: working directory, extra environment, and a kill timeout in ms. */
export type CommandOptions = { cwd?: string; env?: Record<string, string>; timeout?: number }

// No SUPABASE_* or PG* variable of the caller may steer a run (SUPABASE_YES, SUPABASE_WORKDIR,
// SUPABASE_DB_PASSWORD, PGSSLMODE…); DATABASE_URL only when a test passes it.
const baseEnv = (): Record<string, string> =>
  Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined &&
        !/^(SUPABASE_|PG)/.test(entry[0]) &&
        entry[0] !== 'DATABASE_URL',
    ),
  )

/** Runs a command without a shell in a cleaned environment; killed after `timeout` ms (30 s). */
export const runCommand = (
  file: string,
  args: string[],
  options: CommandOptions = {},
): Promise<RunResult> =>
  run(file, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...baseEnv(), ...options.env },
    timeout: options.timeout ?? 30_000,
  })

/** The Supabase CLI the project pins (npm `supabase`). */
export const SUPABASE_BIN = join(REPO_ROOT, 'node_modules', '.bin', 'supabase')

/** Runs the Supabase CLI on `workdir` (default the repository), telemetry and agent mode off. */
export const supabase = (
  args: string[],
  options: { workdir?: string } = {},
): Promise<RunResult> => {
  const workdir = options.workdir ?? REPO_ROOT
  return runCommand(SUPABASE_BIN, ['--workdir', workdir, '--agent', 'no', ...args], {
    cwd: workdir,
    env: { DO_NOT_TRACK: '1', SUPABASE_TELEMETRY_DISABLED: '1' },
  })
}

/** Runs the Supabase CLI with `--output-format json` and parses the answer; throws on failure. */
export const supabaseJson = async <T>(
  args: string[],
  options: { workdir?: string } = {},
): Promise<T> => {
  const result = await supabase([...args, '--output-format', 'json'], options)
  if (result.code !== 0) {
    throw new Error(
      `supabase ${args.join(' ')} exited ${result.code}:\n${result.stderr}\n${result.stdout}`,
    )
  }
  return JSON.parse(result.stdout) as T
}

/** A database URL as the CLI wants it for a plain local Postgres (`sslmode=disable`). */
export { cliUrl }

/** What `supabase migration list` prints as JSON: a row per version, '' where a side lacks it. */
export type MigrationList = { migrations: { local: string; remote: string; time: string }[] }

/** What `supabase db push --output-format json` prints. */
export type PushResult = {
  upToDate: boolean
  dryRun: boolean
  migrations: string[]
  seeds: string[]
  message: string
}

/** `supabase migration list --remote=<url>`, parsed. */
export const migrationList = (url: string): Promise<MigrationList> =>
  supabaseJson<MigrationList>(['migration', 'list', `--remote=${cliUrl(url)}`])

/** `supabase db push --remote=<url> --yes` plus `extra` flags, parsed. */
export const dbPush = (url: string, extra: string[] = []): Promise<PushResult> =>
  supabaseJson<PushResult>(['db', 'push', `--remote=${cliUrl(url)}`, '--yes', ...extra])
