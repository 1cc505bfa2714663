import postgres from 'postgres'
import { CEILING_ROWS, METRIC, NAIVE_QUOTA, type BenchUser } from './database.ts'
import type { Call } from './measure.ts'

/** One reserved connection per loop. */
export type Connection = postgres.ReservedSql

/** N connections reserved from one pool, all open before any window starts. */
export type Connections = { list: Connection[]; end: () => Promise<void> }

/** Opens `count` connections to `url` (prepared statements on) and reserves one per loop. */
export const openConnections = async (url: string, count: number): Promise<Connections> => {
  const pool = postgres(url, {
    max: count,
    prepare: true,
    idle_timeout: 0,
    onnotice: () => {},
    connection: { application_name: 'tollgate-bench' },
  })
  const list = await Promise.all(Array.from({ length: count }, () => pool.reserve()))
  return {
    list,
    end: async () => {
      for (const connection of list) connection.release()
      await pool.end({ timeout: 5 })
    },
  }
}

/** The statements each figure runs, exactly as sent (for the report). */
export const STATEMENTS = {
  ceiling: 'update public.bench_ceiling set used = used + 1 where key = $1 and used + 1 <= quota',
  begin: 'begin isolation level read committed',
  beginReadOnly: 'begin isolation level read committed read only',
  claims:
    "select pg_catalog.set_config('role', 'authenticated', true), " +
    "pg_catalog.set_config('request.jwt.claims', $1, true)",
  consume: 'select tollgate.consume_usage($1::text, 1) as answer',
  usage: 'select * from tollgate.usage',
  readCeiling: 'select used, quota from public.bench_ceiling where key = $1',
  readRowsLimit:
    'select metric, used, quota from public.bench_ceiling_rows where key = $1 order by metric',
  naiveRead:
    'select coalesce(sum(amount), 0)::bigint as total from public.bench_naive_usage where user_id = $1',
  naiveInsert: 'insert into public.bench_naive_usage (user_id, amount) values ($1, 1)',
  commit: 'commit',
} as const

// postgres.js sends a query without parameters as a simple query (parsed and planned every time);
// this runtime option, missing from its types, keeps it a prepared statement as PostgREST has it.
export const EXTENDED = { prepare: true, simple: false } as postgres.UnsafeQueryOptions

const randomInt = (below: number): number => Math.floor(Math.random() * below)

/** A random element of a non-empty list. */
export const pick = <T>(list: readonly T[]): T => {
  const item = list[randomInt(list.length)]
  if (item === undefined) throw new Error('empty list')
  return item
}

/** Ceiling: one auto-committed conditional update of a plain table; `key` null = random key. */
export const ceilingCall =
  (connection: Connection, key: number | null): Call =>
  async () => {
    const k = key ?? 1 + randomInt(CEILING_ROWS)
    const result = await connection.unsafe(STATEMENTS.ceiling, [k], { prepare: true })
    return result.count === 1
  }

/**
 * One statement in the framing PostgREST gives every request: a transaction (read-only for reads),
 * role and claims set first, commit. The four statements are pipelined (one write, one round trip).
 */
export const inFraming = async <T extends object>(
  connection: Connection,
  claims: string,
  statement: string,
  params: postgres.ParameterOrJSON<never>[],
  options: { readOnly?: boolean; query?: postgres.UnsafeQueryOptions } = {},
): Promise<postgres.RowList<T[]>> => {
  const begin = connection
    .unsafe(options.readOnly ? STATEMENTS.beginReadOnly : STATEMENTS.begin)
    .execute()
  const setup = connection.unsafe(STATEMENTS.claims, [claims], { prepare: true }).execute()
  const main = connection.unsafe<T[]>(statement, params, options.query ?? { prepare: true }).execute()
  const commit = connection.unsafe(STATEMENTS.commit).execute()
  const [, , rows] = await Promise.all([begin, setup, main, commit])
  return rows
}

/**
 * The ceiling's update inside the framing the RPC gets, as `authenticated`: what any PostgREST
 * call that writes one row costs at least.
 */
export const framedCeilingCall =
  (connection: Connection, user: () => BenchUser, fixedKey: number | null): Call =>
  async () => {
    const key = fixedKey ?? 1 + randomInt(CEILING_ROWS)
    const result = await inFraming(connection, user().claims, STATEMENTS.ceiling, [key])
    return result.count === 1
  }

type Answer = { answer: { allowed: boolean } }

/** Ours, as PostgREST runs `POST /rpc/consume_usage`. */
export const consumeCall =
  (connection: Connection, user: () => BenchUser): Call =>
  async () => {
    const rows = await inFraming<Answer>(connection, user().claims, STATEMENTS.consume, [METRIC])
    const answer = rows[0]?.answer
    if (!answer || typeof answer.allowed !== 'boolean') throw new Error('consume_usage: no answer')
    return answer.allowed
  }

/** Reads as PostgREST runs `GET /usage`. */
export const usageCall =
  (connection: Connection, user: () => BenchUser, expectedRows: number): Call =>
  async () => {
    const rows = await inFraming(connection, user().claims, STATEMENTS.usage, [], {
      readOnly: true,
      query: EXTENDED,
    })
    if (rows.length !== expectedRows) {
      throw new Error(`usage view: ${rows.length} rows, expected ${expectedRows}`)
    }
    return true
  }

/**
 * The reads' ceiling: one row of a plain table by primary key in the same read framing. What any
 * PostgREST read costs at least.
 */
export const framedReadCeilingCall =
  (connection: Connection, user: () => BenchUser): Call =>
  async () => {
    const key = 1 + randomInt(CEILING_ROWS)
    const rows = await inFraming(connection, user().claims, STATEMENTS.readCeiling, [key], {
      readOnly: true,
    })
    if (rows.length !== 1) throw new Error(`read ceiling: ${rows.length} rows for key ${key}`)
    return true
  }

/**
 * The reads' limit (issue 17): the usage view's number of rows (one per metric of the plan) from a
 * plain table by key, same framing, no rule. What the view's answer costs at least, whatever
 * Tollgate does to compute it.
 */
export const framedReadRowsLimitCall =
  (connection: Connection, user: () => BenchUser, expectedRows: number): Call =>
  async () => {
    const key = 1 + randomInt(CEILING_ROWS)
    const rows = await inFraming(connection, user().claims, STATEMENTS.readRowsLimit, [key], {
      readOnly: true,
    })
    if (rows.length !== expectedRows) {
      throw new Error(`read limit: ${rows.length} rows for key ${key}, expected ${expectedRows}`)
    }
    return true
  }

/**
 * The naive baseline most apps write: in one read-committed transaction, sum the user's usage
 * rows, and insert one more when the sum is under the quota. Pipelined where the logic allows
 * (begin + read, then insert + commit): two round trips.
 */
export const naiveCall =
  (connection: Connection, userId: string): Call =>
  async () => {
    const begin = connection.unsafe(STATEMENTS.begin).execute()
    const read = connection
      .unsafe<{ total: string }[]>(STATEMENTS.naiveRead, [userId], { prepare: true })
      .execute()
    const [, rows] = await Promise.all([begin, read])
    const total = Number(rows[0]?.total ?? Number.NaN)
    if (Number.isNaN(total)) throw new Error('naive: no sum')
    if (total + 1 <= NAIVE_QUOTA) {
      const insert = connection
        .unsafe(STATEMENTS.naiveInsert, [userId], { prepare: true })
        .execute()
      const commit = connection.unsafe(STATEMENTS.commit).execute()
      await Promise.all([insert, commit])
      return true
    }
    await connection.unsafe(STATEMENTS.commit)
    return false
  }
