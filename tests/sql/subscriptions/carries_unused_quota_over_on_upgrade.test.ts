import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback } from '../../helpers/db.ts'
import { clock, consume, countersOf, insertSubscription, usageAs } from './support.ts'

describe('an upgrade of a carry_over metric', () => {
  it('gives free -> pro the new base plus what free had left, and starts used at 0', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      expect(await consume(tx, user.id, 'api_calls', 200)).toMatchObject({
        allowed: true,
        used: 200,
        quota: 1000,
        remaining: 800,
      })
      await insertSubscription(tx, user.id, { planId: 'pro' })
      const t = await clock(tx)
      const [apiCalls] = await usageAs(tx, user)
      expect(apiCalls).toEqual({
        metric: 'api_calls',
        period: 'month',
        period_start: t.now,
        period_end: t.nowPlusMonth,
        used: '0',
        quota: '100800',
        remaining: '100800',
      })
      expect(await countersOf(tx, user.id)).toMatchObject({
        api_calls: { plan_id: 'pro', used: '0', quota: '100800', base_quota: '100000' },
      })
    })
  })

  it('keeps pro -> enterprise inside the billing period counted: enterprise base plus what the period brought in', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      await consume(tx, user.id, 'api_calls', 200)
      const sub = await insertSubscription(tx, user.id, { planId: 'pro' })
      expect(await consume(tx, user.id, 'api_calls', 300)).toMatchObject({
        allowed: true,
        used: 300,
        quota: 100800,
        remaining: 100500,
      })
      // A prorated change keeps the billing period: no new period, so no second carry-over.
      await tx`update tollgate.subscriptions set plan_id = 'enterprise' where id = ${sub.id}::uuid`
      const t = await clock(tx)
      const [apiCalls] = await usageAs(tx, user)
      expect(apiCalls).toEqual({
        metric: 'api_calls',
        period: 'month',
        period_start: t.now,
        period_end: t.nowPlusMonth,
        used: '300',
        quota: '1000800',
        remaining: '1000500',
      })
      expect(await countersOf(tx, user.id)).toMatchObject({
        api_calls: {
          plan_id: 'enterprise',
          used: '300',
          quota: '1000800',
          base_quota: '1000000',
        },
      })
    })
  })

  it('gives a user who never consumed the new base plus the whole old quota', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      await insertSubscription(tx, user.id, { planId: 'pro' })
      const t = await clock(tx)
      const [apiCalls] = await usageAs(tx, user)
      expect(apiCalls).toEqual({
        metric: 'api_calls',
        period: 'month',
        period_start: t.now,
        period_end: t.nowPlusMonth,
        used: '0',
        quota: '101000',
        remaining: '101000',
      })
      expect(await consume(tx, user.id, 'api_calls', 101000)).toMatchObject({
        allowed: true,
        used: 101000,
        quota: 101000,
        remaining: 0,
      })
    })
  })
})
