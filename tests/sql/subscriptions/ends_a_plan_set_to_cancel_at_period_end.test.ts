import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback } from '../../helpers/db.ts'
import {
  calendarMonthOf,
  consume,
  countersOf,
  dateOf,
  insertSubscription,
  nowPlus,
  periodEndPlus,
  planAt,
} from './support.ts'

describe('a subscription set to cancel at period end', () => {
  it('keeps pro until current_period_end and is free from that moment on', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const sub = await insertSubscription(tx, user.id, { planId: 'pro', cancelAtPeriodEnd: true })
      const periodEnd = await periodEndPlus(tx, sub.id, '0')
      const justBefore = await periodEndPlus(tx, sub.id, '-1 second')

      expect(await planAt(tx, user.id, await nowPlus(tx, '0'))).toBe('pro')
      expect(await consume(tx, user.id, 'api_calls', 1)).toMatchObject({
        allowed: true,
        used: 1,
        quota: 101000,
      })
      expect(await countersOf(tx, user.id)).toMatchObject({
        api_calls: { plan_id: 'pro', valid_until: await dateOf(tx, periodEnd) },
      })

      expect(await planAt(tx, user.id, justBefore)).toBe('pro')
      expect(await consume(tx, user.id, 'api_calls', 1, justBefore)).toMatchObject({
        allowed: true,
        used: 2,
        quota: 101000,
      })

      // At period end the pro month is over: a new free period starts from zero.
      expect(await planAt(tx, user.id, periodEnd)).toBe('free')
      const month = await calendarMonthOf(tx, periodEnd)
      const answer = await consume(tx, user.id, 'api_calls', 1, periodEnd)
      expect(answer).toEqual({
        allowed: true,
        metric: 'api_calls',
        used: 1,
        quota: 1000,
        remaining: 999,
        period_end: expect.any(String),
        credits_remaining: 0,
        credits_drawn: 0,
      })
      expect(new Date(answer.period_end ?? '')).toEqual(month.end)
      expect(await countersOf(tx, user.id)).toMatchObject({
        api_calls: {
          plan_id: 'free',
          // The pro month ended: a fresh free period, free's calendar month.
          period_start: month.start,
          period_end: month.end,
          used: '1',
          quota: '1000',
          base_quota: '1000',
          valid_until: null,
        },
      })
    })
  })
})
