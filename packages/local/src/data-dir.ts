import { randomBytes } from 'node:crypto'
import { link, mkdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { REPO_ROOT } from '../../db/src/migrate.ts'

/** The git-ignored folder of the project the local stack keeps its state in. */
export const DEFAULT_DATA_DIR = join(REPO_ROOT, '.tollgate')

/** The data folder: `--data-dir`, else TOLLGATE_DATA_DIR, else `.tollgate` in the project. */
export const dataDirFrom = (flag: string | undefined, env: NodeJS.ProcessEnv): string =>
  resolve(flag ?? (env.TOLLGATE_DATA_DIR || DEFAULT_DATA_DIR))

/** Where the embedded database lives inside the data folder. */
export const pgliteDirOf = (dataDir: string): string => join(dataDir, 'pglite')

const lockFileOf = (dataDir: string): string => join(dataDir, 'pglite.lock')
const secretFileOf = (dataDir: string): string => join(dataDir, 'jwt-secret')

/** What the process holding the embedded database says about itself. */
export type LockInfo = {
  pid: number
  /** Set once its wire server listens: other processes reach the database through it. */
  databaseUrl?: string
  /** The local stack's base URL, once it serves. */
  url?: string
}

/** The embedded database, held by this process until `release`. */
export type Lock = {
  update: (info: Omit<LockInfo, 'pid'>) => Promise<void>
  release: () => Promise<void>
}

const hasCode = (error: unknown, code: string): boolean =>
  typeof error === 'object' && error !== null && 'code' in error && error.code === code

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return hasCode(error, 'EPERM')
  }
}

const readLock = async (file: string): Promise<LockInfo | undefined> => {
  try {
    const info = JSON.parse(await readFile(file, 'utf8')) as LockInfo
    return typeof info.pid === 'number' ? info : undefined
  } catch {
    return undefined
  }
}

// Written beside the target, then linked or renamed: readers never see half a file.
const writeAtomically = async (
  file: string,
  text: string,
  place: (from: string, to: string) => Promise<void>,
): Promise<void> => {
  const temporary = `${file}.${process.pid}.tmp`
  await writeFile(temporary, text, { mode: 0o600 })
  try {
    await place(temporary, file)
  } finally {
    await rm(temporary, { force: true })
  }
}

/**
 * Takes the embedded database for this process (PGlite must be opened by one process only), or
 * returns who holds it. A lock left by a process that died is taken over.
 */
export const lockDatabase = async (dataDir: string): Promise<Lock | { heldBy: LockInfo }> => {
  await mkdir(dataDir, { recursive: true })
  const file = lockFileOf(dataDir)
  const mine = (info: Omit<LockInfo, 'pid'> = {}) => JSON.stringify({ pid: process.pid, ...info })
  for (let attempt = 0; attempt < 5; attempt += 1) {
    try {
      await writeAtomically(file, mine(), link)
      return {
        update: (info) => writeAtomically(file, mine(info), rename),
        release: async () => {
          if ((await readLock(file))?.pid === process.pid) await unlink(file).catch(() => {})
        },
      }
    } catch (error) {
      if (!hasCode(error, 'EEXIST')) throw error
    }
    const holder = await readLock(file)
    if (holder && holder.pid !== process.pid && isAlive(holder.pid)) return { heldBy: holder }
    // Checked again just before removing: another process may have taken it over meanwhile.
    if (holder && (await readLock(file))?.pid === holder.pid) await rm(file, { force: true })
    else await new Promise((done) => setTimeout(done, 50))
  }
  throw new Error(`cannot take ${file}; remove it if no local stack is running`)
}

/** Who holds the embedded database of `dataDir`, if a live process does. */
export const databaseHolder = async (dataDir: string): Promise<LockInfo | undefined> => {
  const holder = await readLock(lockFileOf(dataDir))
  return holder && isAlive(holder.pid) ? holder : undefined
}

/** The HS256 secret of the tokens: SUPABASE_JWT_SECRET, else one kept in the data folder. */
export const jwtSecretFor = async (
  dataDir: string,
  env: NodeJS.ProcessEnv,
): Promise<{ secret: string; from: string }> => {
  if (env.SUPABASE_JWT_SECRET)
    return { secret: env.SUPABASE_JWT_SECRET, from: 'SUPABASE_JWT_SECRET' }
  const file = secretFileOf(dataDir)
  await mkdir(dataDir, { recursive: true })
  try {
    await writeAtomically(file, `${randomBytes(32).toString('base64url')}\n`, link)
  } catch (error) {
    if (!hasCode(error, 'EEXIST')) throw error
  }
  return { secret: (await readFile(file, 'utf8')).trim(), from: file }
}
