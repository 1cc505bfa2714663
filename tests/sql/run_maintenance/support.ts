import type { Queryable } from '../../helpers/db.ts'

/** What run_maintenance reports (counts cover the whole shared database: never assert on them). */
export type MaintenanceReport = {
  as_of: string
  subscriptions_ended: number
  subscriptions_lapsed: number
  subscriptions_expired: number
  counters_refreshed: number
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
