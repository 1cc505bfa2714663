import { randomUUID } from 'node:crypto'
import { ownerSql, type Queryable, type Sql } from '../../helpers/db.ts'

/** The answer of consume_usage, with period_end as an ISO string in UTC (or null). */
export type Answer = {
  allowed: boolean
  metric: string
  used: number
  quota: number
  remaining: number | null
  period_end: string | null
}

/** A row of tollgate_private.usage_counters; numbers as numbers and moments as ISO strings (UTC). */
export type Counter = {
  plan_id: string
  period: string
  anchor: string | null
  period_start: string
  period_end: string | null
  used: number
  quota: number
  base_quota: number
  valid_until: string | null
}

/** A row of tollgate_private.usage_events as the tests compare it. */
export type LedgerRow = {
  metric: string
  amount: number
  allowed: boolean
  idempotency_key: string | null
  result: Answer | null
  period_start: string | null
}

type RawAnswer = Omit<Answer, 'period_end'> & { period_end: string | null }

/** A moment read back from Postgres as an ISO string in UTC (`-infinity` and friends stay visible). */
export const iso = (value: Date | string | null): string | null => {
  if (value === null) return null
  const date = value instanceof Date ? value : new Date(value)
  return Number.isNaN(date.getTime()) ? `invalid:${String(value)}` : date.toISOString()
}

const isoOrThrow = (value: Date | string): string => {
  const text = iso(value)
  if (text === null) throw new Error('unexpected null moment')
  return text
}

/** Makes a consume_usage answer comparable: period_end in UTC ISO form, whatever the session TimeZone. */
export const normalize = (answer: RawAnswer): Answer => ({
  allowed: answer.allowed,
  metric: answer.metric,
  used: answer.used,
  quota: answer.quota,
  remaining: answer.remaining,
  period_end: iso(answer.period_end),
})

/**
 * The private consume_usage (owner, or service_role) for a user at as_of. Moments go over the wire
 * as text: postgres.js would serialize a timestamptz parameter through a JS Date, dropping microseconds.
 */
export const consumeAt = async (
  q: Queryable,
  userId: string | null,
  metric: string | null,
  amount: number | null,
  asOf: string,
  key: string | null = null,
): Promise<Answer> => {
  const [row] = await q<{ answer: RawAnswer }[]>`
    select tollgate_private.consume_usage(
      ${userId}::uuid, ${metric}::text, ${amount}::bigint, ${key}::text, ${asOf}::text::timestamptz
    ) as answer`
  if (!row) throw new Error('consume_usage returned no row')
  return normalize(row.answer)
}

/** The public RPC tollgate.consume_usage, as the role and claims the transaction runs with. */
export const consumeNow = async (
  q: Queryable,
  metric: string | null,
  amount: number | null = 1,
  key: string | null = null,
): Promise<Answer> => {
  const [row] = await q<{ answer: RawAnswer }[]>`
    select tollgate.consume_usage(${metric}::text, ${amount}::bigint, ${key}::text) as answer`
  if (!row) throw new Error('consume_usage returned no row')
  return normalize(row.answer)
}

type RawCounter = Omit<Counter, 'anchor' | 'period_start' | 'period_end' | 'valid_until'> & {
  anchor: Date | null
  period_start: Date
  period_end: Date | null
  valid_until: Date | null
}

/** A user's counter of one metric, read as the owner; null when there is none. */
export const counterOf = async (
  q: Queryable,
  userId: string,
  metric: string,
): Promise<Counter | null> => {
  const [row] = await q<RawCounter[]>`
    select plan_id, period, anchor, period_start, period_end, used::float8 as used,
      quota::float8 as quota, base_quota::float8 as base_quota, valid_until
    from tollgate_private.usage_counters
    where user_id = ${userId}::uuid and metric = ${metric}`
  if (!row) return null
  return {
    ...row,
    anchor: iso(row.anchor),
    period_start: isoOrThrow(row.period_start),
    period_end: iso(row.period_end),
    valid_until: iso(row.valid_until),
  }
}

type RawLedgerRow = Omit<LedgerRow, 'result' | 'period_start'> & {
  result: RawAnswer | null
  period_start: Date | null
}

/** A user's ledger rows (tollgate_private.usage_events) in insertion order, read as the owner. */
export const ledgerOf = async (q: Queryable, userId: string): Promise<LedgerRow[]> => {
  const rows = await q<RawLedgerRow[]>`
    select metric, amount::float8 as amount, allowed, idempotency_key, result, period_start
    from tollgate_private.usage_events
    where user_id = ${userId}::uuid
    order by id`
  return rows.map((row) => ({
    ...row,
    result: row.result && normalize(row.result),
    period_start: iso(row.period_start),
  }))
}

/** A moment computed by the database (e.g. from now() in the running transaction) as UTC ISO. */
export const momentOf = async (q: Queryable, expression: string): Promise<string> => {
  const [row] = await q<{ at: Date }[]>`select (${q.unsafe(expression)})::timestamptz as at`
  if (!row) throw new Error('no moment')
  return isoOrThrow(row.at)
}

/** A moment computed by the database as timestamptz text, keeping the microseconds a Date drops. */
export const exactMomentOf = async (q: Queryable, expression: string): Promise<string> => {
  const [row] = await q<{ at: string }[]>`select (${q.unsafe(expression)})::timestamptz::text as at`
  if (!row) throw new Error('no moment')
  return row.at
}

/** A plan slug no other test uses. */
export const uniquePlanId = (): string => `tp_${randomUUID().replaceAll('-', '').slice(0, 12)}`

/** A plan with its own limits, so tests can use hour/day metrics (unique slug each time). */
export const insertPlan = async (
  q: Queryable,
  limits: { metric: string; quota: number; period: string; carryOver?: boolean }[],
  planId: string = uniquePlanId(),
): Promise<string> => {
  await q`insert into tollgate.plans (id, name, amount) values (${planId}, ${`Test ${planId}`}, 0)`
  for (const limit of limits) {
    await q`
      insert into tollgate.plan_limits (plan_id, metric, quota, period, carry_over)
      values (${planId}, ${limit.metric}, ${limit.quota}, ${limit.period}, ${limit.carryOver ?? false})`
  }
  return planId
}

/** A metric name no other test uses. */
export const uniqueMetric = (prefix: string): string =>
  `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 10)}`

/**
 * An active internal subscription of the user to a plan, starting now() for one month (the
 * subscription triggers move the user's counters to that plan at now()).
 */
export const subscribe = async (q: Queryable, userId: string, planId: string): Promise<void> => {
  await q`
    insert into tollgate.subscriptions (
      user_id, plan_id, status, provider, current_period_start, current_period_end
    ) values (
      ${userId}::uuid, ${planId}, 'active', 'internal', now(),
      (now() at time zone 'UTC' + interval '1 month') at time zone 'UTC'
    )`
}

export { testUsers } from '../../helpers/db.ts'

/** A pool whose connections carry their own application_name, so a test can watch them wait. */
export const taggedPool = (max = 24): { sql: Sql; tag: string } => {
  const tag = `tollgate-conc-${randomUUID().slice(0, 8)}`
  return { sql: ownerSql({ max, connection: { application_name: tag } }), tag }
}

/** Opens `count` connections of the pool at once, so a burst of calls really runs in parallel. */
export const openConnections = async (sql: Sql, count: number): Promise<void> => {
  const reserved = await Promise.all(Array.from({ length: count }, () => sql.reserve()))
  for (const connection of reserved) connection.release()
}

/** Waits until `count` connections of a tagged pool are blocked on a lock (fails after ~20 s). */
export const waitForLockWaiters = async (observer: Sql, tag: string, count: number) => {
  for (let attempt = 0; attempt < 1000; attempt += 1) {
    const [row] = await observer<{ n: number }[]>`
      select count(*)::int as n from pg_catalog.pg_stat_activity
      where application_name = ${tag} and wait_event_type = 'Lock'`
    if ((row?.n ?? 0) >= count) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`fewer than ${count} connections of ${tag} ever waited on a lock`)
}

/** One connection with an open transaction, driven step by step; `end` commits or rolls back. */
export type Session = {
  q: Queryable
  pid: number
  end: (how: 'commit' | 'rollback') => Promise<void>
}

/** Reserves a connection of the pool and begins a transaction on it (for explicit interleavings). */
export const beginSession = async (sql: Sql): Promise<Session> => {
  const connection = await sql.reserve()
  await connection`begin`
  const [row] = await connection<{ pid: number }[]>`select pg_catalog.pg_backend_pid() as pid`
  if (!row) throw new Error('no backend pid')
  return {
    q: connection,
    pid: row.pid,
    end: async (how) => {
      try {
        await connection.unsafe(how)
      } finally {
        connection.release()
      }
    },
  }
}

/** Waits until a backend is blocked on a lock (fails after ~20 s). */
export const waitUntilBlocked = async (observer: Sql, pid: number) => {
  for (let attempt = 0; attempt < 1000; attempt += 1) {
    const [row] = await observer<{ blocked: boolean }[]>`
      select coalesce(wait_event_type = 'Lock', false) as blocked
      from pg_catalog.pg_stat_activity where pid = ${pid}`
    if (row?.blocked) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`backend ${pid} never waited on a lock`)
}

/** Resolves 'waiting' once backend `pid` waits on a lock, 'finished' if `work` settles first. */
export const waitingOrFinished = async (
  observer: Sql,
  pid: number,
  work: Promise<unknown>,
): Promise<'waiting' | 'finished'> => {
  let finished = false
  void work.then(
    () => (finished = true),
    () => (finished = true),
  )
  for (let attempt = 0; attempt < 1000 && !finished; attempt += 1) {
    const [row] = await observer<{ blocked: boolean }[]>`
      select coalesce(wait_event_type = 'Lock', false) as blocked
      from pg_catalog.pg_stat_activity where pid = ${pid}`
    if (row?.blocked) return 'waiting'
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return 'finished'
}
