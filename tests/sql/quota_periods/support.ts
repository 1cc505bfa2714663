import type { Tx } from '../../helpers/db.ts'
import type { UsageAnswer } from '../subscriptions/support.ts'

/** A moment relative to now(), as timestamptz text (UTC wall-time arithmetic, like the rules). */
export const at = async (tx: Tx, offset: string): Promise<string> => {
  const [row] = await tx<{ at: string }[]>`
    select ((now() at time zone 'UTC' + ${offset}::interval) at time zone 'UTC')::text as at`
  if (!row) throw new Error('no moment')
  return row.at
}

/** What a test says about a subscription; moments are offsets from now() (see `at`). */
export type Sub = {
  plan: string
  status?: string
  provider?: string
  start: string
  end: string
  anchor?: string | null
  trialEnd?: string | null
}

/** Inserts a subscription as the owner (the subscription trigger syncs the counters at now()). */
export const insertSub = async (tx: Tx, userId: string, sub: Sub): Promise<string> => {
  const [row] = await tx<{ id: string }[]>`
    insert into tollgate.subscriptions (user_id, plan_id, status, provider, current_period_start,
      current_period_end, billing_cycle_anchor, trial_end)
    values (${userId}::uuid, ${sub.plan}, ${sub.status ?? 'active'}, ${sub.provider ?? 'stripe'},
      ${await at(tx, sub.start)}::timestamptz, ${await at(tx, sub.end)}::timestamptz,
      ${sub.anchor === undefined ? await at(tx, sub.start) : sub.anchor === null ? null : await at(tx, sub.anchor)}::timestamptz,
      ${sub.trialEnd ? await at(tx, sub.trialEnd) : null}::timestamptz)
    returning id`
  if (!row) throw new Error('no subscription')
  return row.id
}

/** Updates a subscription as the owner; offsets as in `at`. */
export const updateSub = async (tx: Tx, id: string, change: Partial<Sub>): Promise<void> => {
  const moment = async (offset: string | null | undefined) =>
    offset === undefined ? undefined : offset === null ? null : await at(tx, offset)
  const start = await moment(change.start)
  const end = await moment(change.end)
  const anchor = await moment(change.anchor)
  const trialEnd = await moment(change.trialEnd)
  await tx`
    update tollgate.subscriptions set
      plan_id = coalesce(${change.plan ?? null}, plan_id),
      status = coalesce(${change.status ?? null}, status),
      current_period_start = coalesce(${start ?? null}::timestamptz, current_period_start),
      current_period_end = coalesce(${end ?? null}::timestamptz, current_period_end),
      billing_cycle_anchor = case when ${anchor === undefined} then billing_cycle_anchor else ${anchor ?? null}::timestamptz end,
      trial_end = case when ${trialEnd === undefined} then trial_end else ${trialEnd ?? null}::timestamptz end
    where id = ${id}::uuid`
}

/** Private consume_usage at now() plus an offset. */
export const consumeAt = async (
  tx: Tx,
  userId: string,
  metric: string,
  amount: number,
  offset = '0',
): Promise<UsageAnswer> => {
  const [row] = await tx<{ answer: UsageAnswer }[]>`
    select tollgate_private.consume_usage(${userId}::uuid, ${metric}, ${amount}::bigint, null::text,
      ${await at(tx, offset)}::timestamptz) as answer`
  if (!row) throw new Error('no answer')
  return row.answer
}

/** A counter's state that the rule decides (bigints as numbers). */
export type CounterState = {
  plan_id: string
  period_start: Date
  period_end: Date | null
  used: number
  quota: number
  carried: number
}

/** One counter of a user, read as the owner. */
export const counter = async (tx: Tx, userId: string, metric: string): Promise<CounterState> => {
  const [row] = await tx<CounterState[]>`
    select plan_id, period_start, period_end, used::float8 as used, quota::float8 as quota,
      carried::float8 as carried
    from tollgate_private.usage_counters where user_id = ${userId}::uuid and metric = ${metric}`
  if (!row) throw new Error(`no counter ${metric}`)
  return row
}

/** The plan a user is entitled to at now() plus an offset. */
export const planAt = async (tx: Tx, userId: string, offset: string): Promise<string> => {
  const [row] = await tx<{ plan_id: string }[]>`
    select plan_id from tollgate_private.entitlement(${userId}::uuid, ${await at(tx, offset)}::timestamptz)`
  if (!row) throw new Error('no entitlement')
  return row.plan_id
}
