import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback } from '../../helpers/db.ts'
import { clock, countersOf, insertSubscription, usageAs } from './support.ts'

describe('inserting an active pro subscription', () => {
  it('moves the usage view and the counters to pro in the same transaction', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const sub = await insertSubscription(tx, user.id, { planId: 'pro', status: 'active' })
      const t = await clock(tx)
      expect(sub.current_period_start).toEqual(t.now)
      expect(sub.current_period_end).toEqual(t.nowPlusMonth)

      // A user who never consumed carries free's whole 1000 api_calls over: 100000 + 1000.
      expect(await usageAs(tx, user)).toEqual([
        {
          metric: 'api_calls',
          period: 'month',
          period_start: t.now,
          period_end: t.nowPlusMonth,
          used: '0',
          quota: '101000',
          remaining: '101000',
        },
        {
          metric: 'api_keys',
          period: 'never',
          period_start: t.now,
          period_end: null,
          used: '0',
          quota: '20',
          remaining: '20',
        },
        {
          metric: 'projects',
          period: 'never',
          period_start: t.now,
          period_end: null,
          used: '0',
          quota: '100',
          remaining: '100',
        },
        {
          metric: 'requests',
          period: 'hour',
          period_start: t.hourStart,
          period_end: t.nextHourStart,
          used: '0',
          quota: '1000',
          remaining: '1000',
        },
        {
          metric: 'storage_gb',
          period: 'never',
          period_start: t.now,
          period_end: null,
          used: '0',
          quota: '50',
          remaining: '50',
        },
      ])

      expect(await countersOf(tx, user.id)).toEqual({
        api_calls: {
          metric: 'api_calls',
          plan_id: 'pro',
          period: 'month',
          period_start: t.now,
          period_end: t.nowPlusMonth,
          used: '0',
          quota: '101000',
          base_quota: '100000',
          valid_until: null,
        },
        api_keys: {
          metric: 'api_keys',
          plan_id: 'pro',
          period: 'never',
          period_start: t.now,
          period_end: null,
          used: '0',
          quota: '20',
          base_quota: '20',
          valid_until: null,
        },
        projects: {
          metric: 'projects',
          plan_id: 'pro',
          period: 'never',
          period_start: t.now,
          period_end: null,
          used: '0',
          quota: '100',
          base_quota: '100',
          valid_until: null,
        },
        requests: {
          metric: 'requests',
          plan_id: 'pro',
          period: 'hour',
          period_start: t.hourStart,
          period_end: t.nextHourStart,
          used: '0',
          quota: '1000',
          base_quota: '1000',
          valid_until: null,
        },
        storage_gb: {
          metric: 'storage_gb',
          plan_id: 'pro',
          period: 'never',
          period_start: t.now,
          period_end: null,
          used: '0',
          quota: '50',
          base_quota: '50',
          valid_until: null,
        },
      })
    })
  })
})
