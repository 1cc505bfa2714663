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

export { dumpTollgateSchemas, pgBin } from '../../packages/db/src/dump.ts'
export { runCommand as run, type CommandResult as RunResult } from '../../packages/db/src/run.ts'
