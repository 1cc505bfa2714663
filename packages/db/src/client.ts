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
}

/** A postgres.js pool fit for Supabase's transaction pooler (no prepared statements); int8 as number. */
export const createDb = (url: string, options: DbOptions = {}): Db =>
  postgres(url, {
    // Supavisor in transaction mode (port 6543) cannot keep prepared statements across transactions.
    prepare: false,
    max: options.max ?? 5,
    idle_timeout: options.idleTimeout ?? 20,
    types: { int8: Int8 },
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? 'tollgate' },
  })

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
