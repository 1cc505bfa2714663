import { type Claims, type TestUser, type Tx } from '../../helpers/db.ts'

/** A subscription row as the tests read it back. */
export type SubscriptionRow = {
  id: string
  user_id: string
  plan_id: string
  status: string
  provider: string
  current_period_start: Date
  current_period_end: Date
  cancel_at_period_end: boolean
  canceled_at: Date | null
  ended_at: Date | null
}

/** What a test may say about a new subscription; times are intervals added to now() in UTC. */
export type NewSubscription = {
  planId?: string
  status?: string
  provider?: string
  start?: string
  end?: string
  cancelAtPeriodEnd?: boolean
}

/** A row of tollgate_private.usage_counters (bigint columns as strings, as postgres.js gives them). */
export type Counter = {
  metric: string
  plan_id: string
  period: string
  period_start: Date
  period_end: Date | null
  used: string
  quota: string
  base_quota: string
  valid_until: Date | null
}

/** A row of the tollgate.usage view. */
export type UsageRow = {
  metric: string
  period: string
  period_start: Date
  period_end: Date | null
  used: string
  quota: string
  remaining: string | null
}

/** The answer of consume_usage and release_usage. */
export type UsageAnswer = {
  allowed: boolean
  metric: string
  used: number
  quota: number
  remaining: number | null
  period_end: string | null
}

/** Moments the expectations are built from, computed by the database in UTC wall time. */
export type Clock = {
  now: Date
  nowPlusMonth: Date
  monthStart: Date
  nextMonthStart: Date
  hourStart: Date
  nextHourStart: Date
}

const SUBSCRIPTION_COLUMNS = `id, user_id, plan_id, status, provider, current_period_start,
  current_period_end, cancel_at_period_end, canceled_at, ended_at`

/** Inserts a subscription as the current role (the owner: clients never write); active stripe pro by default. */
export const insertSubscription = async (
  tx: Tx,
  userId: string,
  subscription: NewSubscription = {},
): Promise<SubscriptionRow> => {
  const [row] = await tx<SubscriptionRow[]>`
    insert into tollgate.subscriptions (
      user_id, plan_id, status, provider, current_period_start, current_period_end,
      cancel_at_period_end
    ) values (
      ${userId}::uuid,
      ${subscription.planId ?? 'pro'},
      ${subscription.status ?? 'active'},
      ${subscription.provider ?? 'stripe'},
      (now() at time zone 'UTC' + ${subscription.start ?? '0'}::interval) at time zone 'UTC',
      (now() at time zone 'UTC' + ${subscription.end ?? '1 month'}::interval) at time zone 'UTC',
      ${subscription.cancelAtPeriodEnd ?? false}
    )
    returning ${tx.unsafe(SUBSCRIPTION_COLUMNS)}`
  if (!row) throw new Error('no subscription inserted')
  return row
}

/** Reads a subscription back as the current role. */
export const readSubscription = async (tx: Tx, id: string): Promise<SubscriptionRow> => {
  const [row] = await tx<SubscriptionRow[]>`
    select ${tx.unsafe(SUBSCRIPTION_COLUMNS)} from tollgate.subscriptions where id = ${id}::uuid`
  if (!row) throw new Error(`no subscription ${id}`)
  return row
}

/** Sets a subscription's status as the owner. */
export const setStatus = async (tx: Tx, id: string, status: string): Promise<void> => {
  await tx`update tollgate.subscriptions set status = ${status} where id = ${id}::uuid`
}

/** Switches the running transaction to these claims, exactly as PostgREST starts a request. */
export const actAs = async (tx: Tx, claims: Claims): Promise<void> => {
  await tx`
    select
      pg_catalog.set_config('role', ${claims.role}, true),
      pg_catalog.set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`
}

/** Switches the running transaction back to the session's own role (the owner) without claims. */
export const actAsOwner = async (tx: Tx): Promise<void> => {
  await tx`
    select
      pg_catalog.set_config('role', 'none', true),
      pg_catalog.set_config('request.jwt.claims', '', true)`
}

/** The usage counters of a user by metric, read as the owner. */
export const countersOf = async (tx: Tx, userId: string): Promise<Record<string, Counter>> => {
  const rows = await tx<Counter[]>`
    select metric, plan_id, period, period_start, period_end, used, quota, base_quota, valid_until
    from tollgate_private.usage_counters
    where user_id = ${userId}::uuid
    order by metric`
  return Object.fromEntries(rows.map((row) => [row.metric, row]))
}

/** The tollgate.usage view as the user sees it, read inside the running (owner) transaction. */
export const usageAs = async (tx: Tx, user: TestUser): Promise<UsageRow[]> => {
  await actAs(tx, user.claims)
  const rows = await tx<UsageRow[]>`
    select metric, period, period_start, period_end, used, quota, remaining
    from tollgate.usage
    order by metric`
  await actAsOwner(tx)
  return rows
}

/**
 * A moment as timestamptz text, which keeps the microseconds a JS Date would drop. Pass it as
 * `${moment}::text::timestamptz`: postgres.js sends a timestamptz parameter through Date.
 */
export type Moment = string

/** now() plus an interval (plain timestamptz arithmetic, as the grace period is added). */
export const nowPlus = async (tx: Tx, interval: string): Promise<Moment> => {
  const [row] = await tx<{ at: Moment }[]>`select (now() + ${interval}::interval)::text as at`
  if (!row) throw new Error('no moment')
  return row.at
}

/** A subscription's current_period_end plus an interval (plain timestamptz arithmetic). */
export const periodEndPlus = async (tx: Tx, id: string, interval: string): Promise<Moment> => {
  const [row] = await tx<{ at: Moment }[]>`
    select (current_period_end + ${interval}::interval)::text as at
    from tollgate.subscriptions where id = ${id}::uuid`
  if (!row) throw new Error(`no subscription ${id}`)
  return row.at
}

/** A moment as a Date (millisecond precision), to compare with timestamptz columns read back. */
export const dateOf = async (tx: Tx, at: Moment): Promise<Date> => {
  const [row] = await tx<{ at: Date }[]>`select ${at}::text::timestamptz as at`
  if (!row) throw new Error('no moment')
  return row.at
}

/** Private consume_usage for a user at as_of (default now()). */
export const consume = async (
  tx: Tx,
  userId: string,
  metric: string,
  amount: number,
  asOf: Moment | null = null,
): Promise<UsageAnswer> => {
  const [row] = await tx<{ answer: UsageAnswer }[]>`
    select tollgate_private.consume_usage(
      ${userId}::uuid, ${metric}, ${amount}::bigint, null::text,
      coalesce(${asOf}::text::timestamptz, now())) as answer`
  if (!row) throw new Error('no answer')
  return row.answer
}

/** The plan a user is entitled to at as_of. */
export const planAt = async (tx: Tx, userId: string, asOf: Moment): Promise<string> => {
  const [row] = await tx<{ plan_id: string }[]>`
    select plan_id from tollgate_private.entitlement(${userId}::uuid, ${asOf}::text::timestamptz)`
  if (!row) throw new Error('no entitlement')
  return row.plan_id
}

/**
 * now(), now() + 1 month, and the calendar month and the hour (UTC) around now(), as the database
 * computes them.
 */
export const clock = async (tx: Tx): Promise<Clock> => {
  const [row] = await tx<Clock[]>`
    select
      now() as "now",
      (now() at time zone 'UTC' + interval '1 month') at time zone 'UTC' as "nowPlusMonth",
      date_trunc('month', now() at time zone 'UTC') at time zone 'UTC' as "monthStart",
      (date_trunc('month', now() at time zone 'UTC') + interval '1 month') at time zone 'UTC'
        as "nextMonthStart",
      date_trunc('hour', now() at time zone 'UTC') at time zone 'UTC' as "hourStart",
      (date_trunc('hour', now() at time zone 'UTC') + interval '1 hour') at time zone 'UTC'
        as "nextHourStart"`
  if (!row) throw new Error('no clock')
  return row
}

/** The calendar month (UTC) containing a moment: free users' monthly period at that moment. */
export const calendarMonthOf = async (tx: Tx, at: Moment): Promise<{ start: Date; end: Date }> => {
  const [row] = await tx<{ start: Date; end: Date }[]>`
    select
      date_trunc('month', ${at}::text::timestamptz at time zone 'UTC') at time zone 'UTC' as start,
      (date_trunc('month', ${at}::text::timestamptz at time zone 'UTC') + interval '1 month')
        at time zone 'UTC' as end`
  if (!row) throw new Error('no month')
  return row
}

export { testUsers } from '../../helpers/db.ts'
