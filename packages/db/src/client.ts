import postgres from 'postgres'
import type { Env } from '../../core/src/env.ts'
import { ApiError } from '../../core/src/http.ts'

/** int8 read as a JS number while it is a safe integer (money in minor units, quotas, counters), else as the exact string. */
export const Int8: postgres.PostgresType<number | bigint | string> = {
  to: 20,
  from: [20],
  serialize: (value) => String(value),
  parse: (value: string) => {
    const number = Number(value)
    // Past 2^53 - 1 keep postgres.js's default string: a number would silently lose precision.
    return Number.isSafeInteger(number) ? number : value
  },
}

/** Custom types of a Tollgate pool: what may be sent as int8. */
export type DbTypes = { int8: number | bigint | string }

/** A Tollgate pool. */
export type Db = postgres.Sql<DbTypes>

/** A transaction of a Tollgate pool. */
export type DbTx = postgres.TransactionSql<DbTypes>

/** Options of `createDb`. */
export type DbOptions = {
  /** Largest number of connections (default 5: an edge function isolate needs few). */
  max?: number
  /** Seconds an idle connection stays open (default 20). */
  idleTimeout?: number
  /** `application_name` seen in pg_stat_activity (default 'tollgate'). */
  applicationName?: string
  /** Named prepared statements (default: `preparesOn(url)`, false through a transaction pooler). */
  prepare?: boolean
  /** `statement_timeout` of every connection, in ms (default the server's). */
  statementTimeout?: number
  /** `lock_timeout` of every connection, in ms (default the server's). */
  lockTimeout?: number
}

// Pooler hints in a connection string, which Postgres itself would refuse as startup parameters.
const POOLER_HINTS = ['pgbouncer']

const parsedUrl = (url: string): URL | null => {
  try {
    return new URL(url)
  } catch {
    return null
  }
}

/**
 * Whether a connection string reaches a session of its own, where named prepared statements live
 * on: false for Supavisor's transaction mode (port 6543), `pgbouncer=true` or `prepare=false` in
 * the query, and anything unparsable (several hosts); true otherwise (a direct connection on 5432,
 * the session pooler). The local stack turns it off for its embedded PGlite (TOLLGATE_DB_PREPARE).
 */
export const preparesOn = (url: string): boolean => {
  const parsed = parsedUrl(url)
  if (parsed === null) return false
  const query = parsed.searchParams
  return !(
    parsed.port === '6543' ||
    query.get('pgbouncer') === 'true' ||
    query.get('prepare') === 'false'
  )
}

const withoutPoolerHints = (url: string): string => {
  const parsed = parsedUrl(url)
  if (parsed === null || !POOLER_HINTS.some((name) => parsed.searchParams.has(name))) return url
  for (const name of POOLER_HINTS) parsed.searchParams.delete(name)
  return parsed.toString()
}

/**
 * A postgres.js pool, int8 as number. Prepared statements (one round trip a query) unless the URL
 * goes through a transaction pooler, which cannot keep them across transactions.
 */
export const createDb = (url: string, options: DbOptions = {}): Db =>
  postgres(withoutPoolerHints(url), {
    prepare: options.prepare ?? preparesOn(url),
    max: options.max ?? 5,
    idle_timeout: options.idleTimeout ?? 20,
    types: { int8: Int8 },
    onnotice: () => {},
    connection: {
      application_name: options.applicationName ?? 'tollgate',
      ...(options.statementTimeout === undefined
        ? {}
        : { statement_timeout: options.statementTimeout }),
      ...(options.lockTimeout === undefined ? {} : { lock_timeout: options.lockTimeout }),
    },
  })

/** The settings `poolFor` reads. */
export type DbEnv = Pick<
  Env,
  | 'DATABASE_URL'
  | 'SUPABASE_DB_URL'
  | 'TOLLGATE_DB_PREPARE'
  | 'TOLLGATE_DB_STATEMENT_TIMEOUT'
  | 'TOLLGATE_DB_LOCK_TIMEOUT'
>

/** The longest a statement of the functions may run, in ms (as Supabase's `authenticated` role). */
export const STATEMENT_TIMEOUT_MS = 8000

/** The longest a statement of the functions may wait for a lock, in ms. */
export const LOCK_TIMEOUT_MS = 3000

const pools = new Map<string, Db>()

/**
 * The pool of the isolate (or process) for the environment's database, made on first use: one per
 * URL, settings and options. ApiError NOCFG (503) without a database URL. Its connections get
 * statement_timeout and lock_timeout (TOLLGATE_DB_STATEMENT_TIMEOUT, TOLLGATE_DB_LOCK_TIMEOUT,
 * default 8s and 3s) as startup parameters where they reach a session of their own, as prepared
 * statements do: a transaction pooler (PgBouncer) refuses unknown startup parameters, and the local
 * stack's PGlite would set them on the one session everything shares.
 */
export const poolFor = (
  env: DbEnv,
  options: Pick<DbOptions, 'max' | 'applicationName'> = {},
): Db => {
  const url = dbUrlFrom(env)
  const prepare = env.TOLLGATE_DB_PREPARE ?? preparesOn(url)
  const timeouts = prepare
    ? {
        statementTimeout: env.TOLLGATE_DB_STATEMENT_TIMEOUT ?? STATEMENT_TIMEOUT_MS,
        lockTimeout: env.TOLLGATE_DB_LOCK_TIMEOUT ?? LOCK_TIMEOUT_MS,
      }
    : {}
  const key = JSON.stringify([
    url,
    prepare,
    timeouts,
    options.max ?? null,
    options.applicationName ?? null,
  ])
  let db = pools.get(key)
  if (!db) {
    db = createDb(url, { ...options, prepare, ...timeouts })
    pools.set(key, db)
  }
  return db
}

/** JWT claims as PostgREST receives them; `role` picks the database role. */
export type DbClaims = { role: string; [claim: string]: unknown }

/** Runs `fn` in one transaction as PostgREST runs a request: role and request.jwt.claims set locally. */
export const withClaims = async <T extends Record<string, unknown>, R>(
  sql: postgres.Sql<T>,
  claims: DbClaims,
  fn: (tx: postgres.TransactionSql<T>) => Promise<R>,
): Promise<R> => {
  let result: R | undefined
  await sql.begin(async (tx) => {
    await tx`
      select
        pg_catalog.set_config('role', ${claims.role}, true),
        pg_catalog.set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`
    result = await fn(tx)
  })
  return result as R
}

/** DATABASE_URL, else SUPABASE_DB_URL, else ApiError NOCFG (503). */
export const dbUrlFrom = (env: Pick<Env, 'DATABASE_URL' | 'SUPABASE_DB_URL'>): string => {
  const url = env.DATABASE_URL ?? env.SUPABASE_DB_URL
  if (url === undefined) throw new ApiError('NOCFG', { details: { missing: 'DATABASE_URL' } })
  return url
}
