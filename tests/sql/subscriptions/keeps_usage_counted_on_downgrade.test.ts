import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback } from '../../helpers/db.ts'
import {
  actAs,
  actAsOwner,
  clock,
  consume,
  countersOf,
  insertSubscription,
  setStatus,
  usageAs,
  type UsageAnswer,
} from './support.ts'

describe('a downgrade from pro to free', () => {
  it('sets the quota to 1000 and keeps the 5000 api_calls used, so nothing remains', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const sub = await insertSubscription(tx, user.id, { planId: 'pro' })
      expect(await consume(tx, user.id, 'api_calls', 5000)).toMatchObject({
        allowed: true,
        used: 5000,
      })
      await setStatus(tx, sub.id, 'canceled')

      const t = await clock(tx)
      const [apiCalls] = await usageAs(tx, user)
      expect(apiCalls).toEqual({
        metric: 'api_calls',
        period: 'month',
        // Still the period pro started counting now: free's month ends it, nothing resets it.
        period_start: t.now,
        period_end: t.nextMonthStart,
        used: '5000',
        quota: '1000',
        remaining: '0',
      })
      expect(await countersOf(tx, user.id)).toMatchObject({
        api_calls: { plan_id: 'free', used: '5000', quota: '1000', base_quota: '1000' },
      })
    })
  })

  it('refuses the next consume (allowed false) and counts nothing', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const sub = await insertSubscription(tx, user.id, { planId: 'pro' })
      await consume(tx, user.id, 'api_calls', 5000)
      await setStatus(tx, sub.id, 'canceled')
      const t = await clock(tx)

      await actAs(tx, user.claims)
      const [row] = await tx<{ answer: UsageAnswer }[]>`
        select tollgate.consume_usage('api_calls') as answer`
      await actAsOwner(tx)
      expect(row?.answer).toEqual({
        allowed: false,
        metric: 'api_calls',
        used: 5000,
        quota: 1000,
        remaining: 0,
        period_end: expect.any(String),
        credits_remaining: 0,
        credits_drawn: 0,
      })
      expect(new Date(row?.answer.period_end ?? '')).toEqual(t.nextMonthStart)
      expect(await countersOf(tx, user.id)).toMatchObject({
        api_calls: { plan_id: 'free', used: '5000', quota: '1000' },
      })
    })
  })
})
