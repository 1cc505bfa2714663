import postgres from 'postgres'
import { createUser, type Queryable, type Sql } from '../../helpers/db.ts'
import { buildScratch } from '../../schema/scratch.ts'
import { consumeAt } from '../consume_usage/support.ts'

/** What run_maintenance reports (counts cover the whole shared database: never assert on them). */
export type MaintenanceReport = {
  as_of: string
  subscriptions_ended: number
  subscriptions_lapsed: number
  subscriptions_expired: number
  counters_refreshed: number
  more_counters_due: boolean
  coupon_reservations_released: number
}

/** tollgate_private.run_maintenance(as_of), as the owner (the moment goes over the wire as text). */
export const runMaintenance = async (q: Queryable, asOf: string): Promise<MaintenanceReport> => {
  const [row] = await q<{ report: MaintenanceReport }[]>`
    select tollgate_private.run_maintenance(${asOf}::text::timestamptz) as report`
  if (!row) throw new Error('run_maintenance returned no row')
  return row.report
}

/** A Stripe subscription with fixed (past) period bounds: Stripe ones never lapse by time here. */
export const subscribeOnStripe = async (
  q: Queryable,
  userId: string,
  planId: string,
  periodStart: string,
  periodEnd: string,
): Promise<void> => {
  await q`
    insert into tollgate.subscriptions (
      user_id, plan_id, status, provider, current_period_start, current_period_end
    ) values (
      ${userId}::uuid, ${planId}, 'active', 'stripe', ${periodStart}::text::timestamptz,
      ${periodEnd}::text::timestamptz
    )`
}

/** usage_rows: the state a counter would have at as_of, computed without writing (as the view does). */
export const computedUsage = async (
  q: Queryable,
  userId: string,
  metric: string,
  asOf: string,
): Promise<{ period_start: string; period_end: string | null; used: number; quota: number }> => {
  const [row] = await q<
    { period_start: Date; period_end: Date | null; used: number; quota: number }[]
  >`
    select period_start, period_end, used::float8 as used, quota::float8 as quota
    from tollgate_private.usage_rows(${userId}::uuid, ${asOf}::text::timestamptz)
    where metric = ${metric}`
  if (!row) throw new Error(`no usage row for ${metric}`)
  return {
    period_start: row.period_start.toISOString(),
    period_end: row.period_end && row.period_end.toISOString(),
    used: row.used,
    quota: row.quota,
  }
}

/**
 * A scratch database, migrated and seeded, for runs of tollgate_private.maintain, which commits
 * changes to every due counter of its database and so never runs on the shared one: `owner` as the
 * owner role, `superuser` (deadlock_timeout needs one), `observer` (a superuser, to watch any
 * backend wait), and the notices all three printed.
 */
export type MaintenanceDatabase = {
  owner: Sql
  superuser: Sql
  observer: Sql
  notices: string[]
  close: () => Promise<void>
}

/** Builds a MaintenanceDatabase; `close()` ends its pools and drops it. */
export const maintenanceDatabase = async (): Promise<MaintenanceDatabase> => {
  const built = await buildScratch('migrations', { seed: true })
  const notices: string[] = []
  const options = {
    max: 6,
    prepare: false,
    onnotice: (notice: { message?: string }) => void notices.push(notice.message ?? ''),
  }
  const owner = postgres(built.url, options)
  const superuser = postgres(built.superuserUrl, options)
  // A superuser sees the wait events of every backend, the superuser ones included.
  const observer = postgres(built.superuserUrl, { ...options, max: 1 })
  return {
    owner,
    superuser,
    observer,
    notices,
    close: async () => {
      await Promise.all([owner, superuser, observer].map((pool) => pool.end({ timeout: 1 })))
      await built.close()
    },
  }
}

/** A user id that sorts as `n` does, so a test knows which batch its counters fall in. */
export const orderedUserId = (n: number): string =>
  `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`

/** A run of maintain on a connection of its own: its backend pid and its outcome. */
export type MaintainRun = { pid: number; done: Promise<void> }

/**
 * Starts `call tollgate_private.maintain(as_of, batch_size)` outside any transaction block (the
 * procedure commits), after the given session settings; `done` settles when the call returns.
 */
export const startMaintain = async (
  sql: Sql,
  asOf: string,
  batchSize: number,
  settings: Record<string, string> = {},
): Promise<MaintainRun> => {
  const connection = await sql.reserve()
  for (const [name, value] of Object.entries(settings)) {
    await connection`select pg_catalog.set_config(${name}, ${value}, false)`
  }
  const [row] = await connection<{ pid: number }[]>`select pg_catalog.pg_backend_pid() as pid`
  const done = (async () => {
    try {
      await connection`
        call tollgate_private.maintain(${asOf}::text::timestamptz, ${batchSize}::int)`
    } finally {
      for (const name of Object.keys(settings)) await connection.unsafe(`reset ${name}`)
      connection.release()
    }
  })()
  // Callers await it later; this keeps an early rejection from being reported as unhandled.
  done.catch(() => {})
  return { pid: row?.pid ?? -1, done }
}

/** Runs maintain to its end (see startMaintain). */
export const maintain = async (
  sql: Sql,
  asOf: string,
  batchSize: number,
  settings: Record<string, string> = {},
): Promise<void> => (await startMaintain(sql, asOf, batchSize, settings)).done

/** The backends `pid` waits for. */
export const blockersOf = async (observer: Sql, pid: number): Promise<number[]> => {
  const [row] = await observer<{ pids: number[] }[]>`
    select pg_catalog.pg_blocking_pids(${pid}::int) as pids`
  return row?.pids ?? []
}

/** Every counter, subscription and coupon reservation of the database, in a fixed order. */
export const everything = async (q: Queryable, options: { versions?: boolean } = {}) => {
  const version = q.unsafe(options.versions ? ', xmin::text as version, updated_at' : '')
  const counters = await q`
    select user_id, metric, plan_id, period, anchor, period_start, period_end, used::text,
      quota::text, base_quota::text, valid_until ${version}
    from tollgate_private.usage_counters order by user_id, metric`
  const subscriptions = await q`
    select id, user_id, plan_id, status, ended_at, canceled_at ${version}
    from tollgate.subscriptions order by id`
  const redemptions = await q`
    select checkout_ref, status from tollgate_private.coupon_redemptions order by checkout_ref`
  return {
    counters: [...counters],
    subscriptions: [...subscriptions],
    redemptions: [...redemptions],
  }
}

/** The moment the runs on maintenanceDatabase roll at, and the calendar month it starts. */
export const AS_OF = '2003-02-01T00:00:00Z'
export const FEBRUARY = {
  period_start: '2003-02-01T00:00:00.000Z',
  period_end: '2003-03-01T00:00:00.000Z',
}

/**
 * Five free users with one due api_calls counter each (300 used in January 2003), ids in order.
 * The last one's counter is still on a pro quota valid until January 20: rolling it moves it back
 * to free, which takes a key-share lock on the free plan row, so a session holding that row for
 * update holds a run inside the last user's batch.
 */
export const addFiveDueCounters = async (sql: Sql): Promise<string[]> => {
  const users = [1, 2, 3, 4, 5].map(orderedUserId)
  for (const id of users) {
    await createUser(sql, { id, email: `${id}@example.test` })
    await consumeAt(sql, id, 'api_calls', 300, '2003-01-15T10:00:00Z')
  }
  await sql`
    update tollgate_private.usage_counters
    set plan_id = 'pro', quota = 100000, base_quota = 100000, valid_until = '2003-01-20T00:00:00Z'
    where user_id = ${users[4]!}::uuid`
  const [due] = await sql<{ n: number }[]>`
    select count(*)::int as n from tollgate_private.usage_counters
    where period_end <= ${AS_OF}::text::timestamptz or valid_until <= ${AS_OF}::text::timestamptz`
  if (due?.n !== 5) throw new Error(`expected 5 due counters, found ${due?.n}`)
  return users
}
