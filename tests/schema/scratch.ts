import { spawn } from 'node:child_process'
import { join } from 'node:path'
import postgres from 'postgres'
import { applyMigrations, applySeed, applySqlDir } from '../../packages/db/src/migrate.ts'
import { createScratchDatabase, type ScratchDatabase } from '../helpers/db.ts'

/** A scratch database with an open pool as the owner role; `close()` ends the pool and drops it. */
export type Built = ScratchDatabase & { sql: postgres.Sql; close: () => Promise<void> }

/** Opens a pool on a fresh bootstrapped scratch database, as the owner role `postgres`. */
export const openScratch = async (): Promise<Built> => {
  const scratch = await createScratchDatabase()
  const sql = postgres(scratch.url, { max: 2, onnotice: () => {}, prepare: false })
  return {
    ...scratch,
    sql,
    close: async () => {
      await sql.end()
      await scratch.drop()
    },
  }
}

/** A scratch database built as `postgres` from supabase/migrations (plus the seed) or from sql/. */
export const buildScratch = async (
  from: 'migrations' | 'sql',
  options: { seed?: boolean } = {},
): Promise<Built> => {
  const built = await openScratch()
  try {
    if (from === 'migrations') await applyMigrations(built.sql)
    else await applySqlDir(built.sql)
    if (options.seed) await applySeed(built.sql)
  } catch (error) {
    await built.close()
    throw error
  }
  return built
}

/** The output and exit code of a command. */
export type RunResult = { code: number | null; stdout: string; stderr: string }

/** Where and how `run` runs a command: working directory, environment, kill timeout in ms. */
export type RunOptions = { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number }

/** Runs a command to completion without a shell (options: a working directory, or RunOptions). */
export const run = (
  file: string,
  args: string[],
  options: string | RunOptions = {},
): Promise<RunResult> =>
  new Promise((resolve, reject) => {
    const { cwd, env, timeout } = typeof options === 'string' ? { cwd: options } : options
    const child = spawn(file, args, { cwd, env, timeout, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })

/** A Postgres client binary (PG_BIN overrides the Postgres 15 directory). */
export const pgBin = (name: string): string =>
  join(process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin', name)

/**
 * `pg_dump --schema-only` of Tollgate's two schemas, privileges included, without comment lines,
 * blank lines and the random `\restrict` key newer pg_dump versions print.
 */
export const dumpTollgateSchemas = async (url: string): Promise<string> => {
  const result = await run(pgBin('pg_dump'), [
    '--schema-only',
    '--schema=tollgate',
    '--schema=tollgate_private',
    `--dbname=${url}`,
  ])
  if (result.code !== 0) throw new Error(`pg_dump failed (${result.code}): ${result.stderr}`)
  return result.stdout
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('--'))
    .filter((line) => !/^\\(un)?restrict\b/.test(line))
    .join('\n')
}
