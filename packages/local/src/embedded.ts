import { rm } from 'node:fs/promises'
import { type LockInfo, lockDatabase, pgliteDirOf } from './data-dir.ts'
import { openPglite, type Prepared, prepareDatabase } from './database.ts'
import { serveWire } from './wire.ts'

/** The embedded database of a data folder, open in this process and served on a local port. */
export type EmbeddedDatabase = {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`: what the functions get as DATABASE_URL. */
  url: string
  /** The PGlite data directory. */
  dir: string
  prepared: Prepared
  /** Tells other processes (`npm run token`) where the local stack serves. */
  announce: (url: string) => Promise<void>
  /** Closes the port, then PGlite (cleanly: nothing to recover next time), then the lock. */
  close: () => Promise<void>
}

// Undoes what was opened so far, most recent first, keeping the first error.
const unwind = async (steps: (() => Promise<void>)[], error: unknown): Promise<never> => {
  for (const step of steps.reverse()) await step().catch(() => {})
  throw error
}

/**
 * Opens the data folder's PGlite (`reset`: from scratch), serves it over the wire protocol and
 * brings it up to date (bootstrap, new migrations, changed seed); or says which process holds it.
 */
export const openEmbedded = async (
  dataDir: string,
  options: { reset?: boolean } = {},
): Promise<EmbeddedDatabase | { heldBy: LockInfo }> => {
  const lock = await lockDatabase(dataDir)
  if ('heldBy' in lock) return lock
  const undo: (() => Promise<void>)[] = [lock.release]
  try {
    const dir = pgliteDirOf(dataDir)
    if (options.reset) await rm(dir, { recursive: true, force: true })
    const pg = await openPglite({ dataDir: dir })
    undo.push(() => pg.close())
    const wire = await serveWire(pg)
    undo.push(wire.close)
    const prepared = await prepareDatabase(wire.url)
    await lock.update({ databaseUrl: wire.url })
    return {
      url: wire.url,
      dir,
      prepared,
      announce: (url) => lock.update({ databaseUrl: wire.url, url }),
      close: async () => {
        await wire.close()
        await pg.close()
        await lock.release()
      },
    }
  } catch (error) {
    return unwind(undo, error)
  }
}
