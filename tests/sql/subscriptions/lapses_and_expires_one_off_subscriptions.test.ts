import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback, type Tx } from '../../helpers/db.ts'
import {
  countersOf,
  dateOf,
  insertSubscription,
  periodEndPlus,
  planAt,
  readSubscription,
  type Moment,
} from './support.ts'

const runMaintenance = async (tx: Tx, asOf: Moment): Promise<void> => {
  await tx`select tollgate_private.run_maintenance(${asOf}::text::timestamptz)`
}

describe('a razorpay subscription (paid once per period)', () => {
  it('keeps its plan until current_period_end + grace without any maintenance', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const sub = await insertSubscription(tx, user.id, { planId: 'pro', provider: 'razorpay' })
      const graceEnd = await periodEndPlus(tx, sub.id, '3 days')
      expect(await countersOf(tx, user.id)).toMatchObject({
        api_calls: { plan_id: 'pro', valid_until: await dateOf(tx, graceEnd) },
      })
      expect(await planAt(tx, user.id, await periodEndPlus(tx, sub.id, '3 days -1 second'))).toBe(
        'pro',
      )
      expect(await planAt(tx, user.id, graceEnd)).toBe('free')
    })
  })

  it('is marked past_due by run_maintenance once current_period_end has passed', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const sub = await insertSubscription(tx, user.id, { planId: 'pro', provider: 'razorpay' })

      await runMaintenance(tx, await periodEndPlus(tx, sub.id, '-1 second'))
      expect(await readSubscription(tx, sub.id)).toMatchObject({ status: 'active', ended_at: null })

      await runMaintenance(tx, await periodEndPlus(tx, sub.id, '1 second'))
      expect(await readSubscription(tx, sub.id)).toMatchObject({
        status: 'past_due',
        ended_at: null,
      })
      expect(await planAt(tx, user.id, await periodEndPlus(tx, sub.id, '1 second'))).toBe('pro')
    })
  })

  it('is canceled by run_maintenance once the grace period is over', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const sub = await insertSubscription(tx, user.id, { planId: 'pro', provider: 'razorpay' })
      await runMaintenance(tx, await periodEndPlus(tx, sub.id, '1 second'))

      await runMaintenance(tx, await periodEndPlus(tx, sub.id, '3 days -1 second'))
      expect(await readSubscription(tx, sub.id)).toMatchObject({
        status: 'past_due',
        ended_at: null,
      })

      const graceEnd = await periodEndPlus(tx, sub.id, '3 days')
      await runMaintenance(tx, graceEnd)
      expect(await readSubscription(tx, sub.id)).toMatchObject({
        status: 'canceled',
        ended_at: await dateOf(tx, graceEnd),
      })
      expect(await planAt(tx, user.id, graceEnd)).toBe('free')
      expect(await countersOf(tx, user.id)).toMatchObject({
        api_calls: { plan_id: 'free', quota: '1000' },
        projects: { plan_id: 'free', quota: '3' },
        storage_gb: { plan_id: 'free', quota: '1' },
      })
    })
  })

  it('goes from active to canceled in one run far past the grace period', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const sub = await insertSubscription(tx, user.id, { planId: 'pro', provider: 'razorpay' })
      const asOf = await periodEndPlus(tx, sub.id, '10 days')
      await runMaintenance(tx, asOf)
      expect(await readSubscription(tx, sub.id)).toMatchObject({
        status: 'canceled',
        ended_at: await dateOf(tx, asOf),
      })
    })
  })
})
