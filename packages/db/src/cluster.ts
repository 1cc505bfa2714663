import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'

/** Options of a throwaway Postgres cluster. */
export type ClusterOptions = {
  /** Keep fsync, synchronous_commit and full_page_writes on (for benchmarks); default false. */
  durable?: boolean
  /** More server settings, `name=value` each (e.g. `wal_level=logical`, as Supabase runs). */
  settings?: string[]
}

/** A running throwaway Postgres cluster whose superuser is `supabase_admin`. */
export type Cluster = {
  port: number
  /** TCP host every URL uses; the Unix socket lives in `socketDir`. */
  host: string
  socketDir: string
  dataDir: string
  /** The superuser `supabase_admin` on the maintenance database `postgres`. */
  superuserUrl: string
  url: (dbName: string, user?: string) => string
  createDatabase: (name: string) => Promise<void>
  /** Stops the server and deletes its directory; safe to call twice. */
  stop: () => Promise<void>
}

const SUPERUSER = 'supabase_admin'
const OS_USER = 'postgres'

const pgBin = (name: string): string =>
  join(process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin', name)

// initdb and pg_ctl refuse to run as root, so root runs them as the postgres OS user.
const asRoot = (): boolean => process.getuid?.() === 0

const command = (bin: string, args: string[]): [string, string[]] =>
  asRoot() ? ['runuser', ['-u', OS_USER, '--', pgBin(bin), ...args]] : [pgBin(bin), args]

const run = (bin: string, args: string[]): { ok: boolean; output: string } => {
  const [file, argv] = command(bin, args)
  // cwd '/' because runuser warns when the current directory is unreadable by postgres.
  const result = spawnSync(file, argv, { cwd: '/', encoding: 'utf8', env: cleanEnv() })
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error?.message ?? ''}`
  return { ok: result.status === 0, output }
}

// Stray PG* variables (PGDATA, PGPORT, PGOPTIONS…) must not steer our cluster.
const cleanEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PG')))

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      )
    })
  })

const readLog = (file: string): string => {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n')
  } catch {
    return ''
  }
}

// Every live cluster's synchronous cleanup, run on exit and on fatal signals.
const live = new Set<() => void>()
let hooksInstalled = false

const stopAll = (): void => {
  for (const stop of [...live]) stop()
}

const onSignal = (signal: NodeJS.Signals): void => {
  stopAll()
  // Ours was the only listener: restore the default behaviour (terminate) and re-raise.
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onSignal)
    process.kill(process.pid, signal)
  }
}

const installHooks = (): void => {
  if (hooksInstalled) return
  hooksInstalled = true
  process.on('exit', stopAll)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal)
}

// A detached shell that stops the cluster if this process dies without running its hooks (SIGKILL).
const startWatchdog = (dir: string, dataDir: string): number | undefined => {
  const [stopFile, stopArgs] = command('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop'])
  const script = [
    'while kill -0 "$WATCH_PID" 2>/dev/null; do sleep 1; done',
    '"$@" >/dev/null 2>&1',
    'rm -rf "$WATCH_DIR"',
  ].join('\n')
  const child = spawn('sh', ['-c', script, 'watchdog', stopFile, ...stopArgs], {
    cwd: '/',
    detached: true,
    stdio: 'ignore',
    env: { ...cleanEnv(), WATCH_PID: String(process.pid), WATCH_DIR: dir },
  })
  child.unref()
  return child.pid
}

/** Starts a throwaway Postgres cluster in a fresh temp directory; it is removed on stop or exit. */
export const startCluster = async (options: ClusterOptions = {}): Promise<Cluster> => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-pg-'))
  const dataDir = join(dir, 'data')
  const logFile = join(dir, 'pg.log')
  if (asRoot()) {
    chmodSync(dir, 0o755)
    const uid = spawnSync('id', ['-u', OS_USER], { encoding: 'utf8' }).stdout.trim()
    const gid = spawnSync('id', ['-g', OS_USER], { encoding: 'utf8' }).stdout.trim()
    chownSync(dir, Number(uid), Number(gid))
  }

  let started = false
  let watchdog: number | undefined
  const stopSync = (): void => {
    live.delete(stopSync)
    if (started) run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop'])
    started = false
    rmSync(dir, { recursive: true, force: true })
    if (watchdog !== undefined) {
      try {
        process.kill(-watchdog, 'SIGKILL')
      } catch {
        // Already gone.
      }
      watchdog = undefined
    }
  }
  installHooks()
  live.add(stopSync)

  try {
    const init = run('initdb', [
      '-D',
      dataDir,
      '-U',
      SUPERUSER,
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
      '--no-sync',
    ])
    if (!init.ok) throw new Error(`initdb failed:\n${init.output}`)
    watchdog = startWatchdog(dir, dataDir)

    const settings = [
      '-c listen_addresses=127.0.0.1',
      '-c max_connections=200',
      '-c TimeZone=UTC',
      ...(options.durable
        ? []
        : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
      ...(options.settings ?? []).map((setting) => `-c ${setting}`),
    ]
    let port = 0
    // The free port can be taken between probing and binding: retry on that race only.
    for (let attempt = 1; ; attempt++) {
      port = await freePort()
      const start = run('pg_ctl', [
        '-D',
        dataDir,
        '-l',
        logFile,
        '-w',
        '-t',
        '30',
        '-o',
        [`-p ${port}`, `-k ${dir}`, ...settings].join(' '),
        'start',
      ])
      if (start.ok) break
      const log = readLog(logFile)
      if (attempt < 3 && /could not bind|already in use/i.test(log)) continue
      throw new Error(`pg_ctl start failed:\n${start.output}\n${log}`)
    }
    started = true

    const host = '127.0.0.1'
    const url = (dbName: string, user = 'postgres'): string =>
      `postgres://${encodeURIComponent(user)}@${host}:${port}/${encodeURIComponent(dbName)}`
    const superuserUrl = url('postgres', SUPERUSER)

    const createDatabase = async (name: string): Promise<void> => {
      const sql = postgres(superuserUrl, { max: 1, onnotice: () => {} })
      try {
        await sql`create database ${sql(name)}`
      } finally {
        await sql.end()
      }
    }

    return {
      port,
      host,
      socketDir: dir,
      dataDir,
      superuserUrl,
      url,
      createDatabase,
      stop: async () => stopSync(),
    }
  } catch (error) {
    stopSync()
    throw error
  }
}
