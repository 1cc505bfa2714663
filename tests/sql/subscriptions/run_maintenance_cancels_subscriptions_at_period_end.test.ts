import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback, type Tx } from '../../helpers/db.ts'
import {
  calendarMonthOf,
  consume,
  countersOf,
  dateOf,
  insertSubscription,
  periodEndPlus,
  planAt,
  readSubscription,
  type Moment,
} from './support.ts'

type Report = {
  as_of: string
  subscriptions_ended: number
  subscriptions_lapsed: number
  subscriptions_expired: number
  counters_refreshed: number
}

const runMaintenance = async (tx: Tx, asOf: Moment): Promise<Report> => {
  const [row] = await tx<{ report: Report }[]>`
    select tollgate_private.run_maintenance(${asOf}::text::timestamptz) as report`
  if (!row) throw new Error('no report')
  return row.report
}

describe('run_maintenance and cancel_at_period_end', () => {
  it('leaves the subscription active before current_period_end', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const sub = await insertSubscription(tx, user.id, { planId: 'pro', cancelAtPeriodEnd: true })
      await runMaintenance(tx, await periodEndPlus(tx, sub.id, '-1 second'))
      expect(await readSubscription(tx, sub.id)).toMatchObject({
        status: 'active',
        canceled_at: null,
        ended_at: null,
      })
    })
  })

  it('sets it canceled, ended at current_period_end, and moves the counters to free', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const sub = await insertSubscription(tx, user.id, { planId: 'pro', cancelAtPeriodEnd: true })
      expect(await consume(tx, user.id, 'api_calls', 7)).toMatchObject({ used: 7 })
      expect(await consume(tx, user.id, 'projects', 5)).toMatchObject({ used: 5 })
      const asOf = await periodEndPlus(tx, sub.id, '1 second')

      const report = await runMaintenance(tx, asOf)
      expect(report.subscriptions_ended).toBeGreaterThanOrEqual(1)
      expect(await readSubscription(tx, sub.id)).toMatchObject({
        status: 'canceled',
        canceled_at: sub.current_period_end,
        ended_at: sub.current_period_end,
      })
      expect(await planAt(tx, user.id, asOf)).toBe('free')

      // The same state a lazy consume at as_of reaches: a fresh free month, gauges kept.
      const month = await calendarMonthOf(tx, asOf)
      expect(await countersOf(tx, user.id)).toMatchObject({
        api_calls: {
          plan_id: 'free',
          period_start: month.start,
          period_end: month.end,
          used: '0',
          quota: '1000',
          base_quota: '1000',
          valid_until: null,
        },
        projects: { plan_id: 'free', period_end: null, used: '5', quota: '3' },
      })
      expect(await dateOf(tx, asOf)).toEqual(new Date(report.as_of))
    })
  })

  it('keeps a canceled_at set earlier', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const sub = await insertSubscription(tx, user.id, { planId: 'pro', cancelAtPeriodEnd: true })
      await tx`
        update tollgate.subscriptions set canceled_at = current_period_start
        where id = ${sub.id}::uuid`
      await runMaintenance(tx, await periodEndPlus(tx, sub.id, '1 second'))
      expect(await readSubscription(tx, sub.id)).toMatchObject({
        status: 'canceled',
        canceled_at: sub.current_period_start,
        ended_at: sub.current_period_end,
      })
    })
  })
})
