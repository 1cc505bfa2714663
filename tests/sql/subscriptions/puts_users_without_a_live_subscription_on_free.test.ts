import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback } from '../../helpers/db.ts'
import { clock, insertSubscription, nowPlus, planAt, usageAs, type Clock } from './support.ts'

const freeUsage = (t: Clock) => [
  {
    metric: 'api_calls',
    period: 'month',
    period_start: t.monthStart,
    period_end: t.nextMonthStart,
    used: '0',
    quota: '1000',
    remaining: '1000',
  },
  {
    metric: 'api_keys',
    period: 'never',
    period_start: t.now,
    period_end: null,
    used: '0',
    quota: '2',
    remaining: '2',
  },
  {
    metric: 'projects',
    period: 'never',
    period_start: t.now,
    period_end: null,
    used: '0',
    quota: '3',
    remaining: '3',
  },
  {
    metric: 'requests',
    period: 'hour',
    period_start: t.hourStart,
    period_end: t.nextHourStart,
    used: '0',
    quota: '100',
    remaining: '100',
  },
  {
    metric: 'storage_gb',
    period: 'never',
    period_start: t.now,
    period_end: null,
    used: '0',
    quota: '1',
    remaining: '1',
  },
]

describe('a user without a live subscription', () => {
  it('is on free: 1000 api_calls a calendar month, 3 projects and 1 GB of storage', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const t = await clock(tx)
      expect(await planAt(tx, user.id, await nowPlus(tx, '0'))).toBe('free')
      expect(await usageAs(tx, user)).toEqual(freeUsage(t))
    })
  })

  it('is on free when their only subscriptions are canceled or incomplete_expired', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      await insertSubscription(tx, user.id, { planId: 'pro', status: 'canceled' })
      await insertSubscription(tx, user.id, { planId: 'enterprise', status: 'incomplete_expired' })
      const t = await clock(tx)
      expect(await planAt(tx, user.id, await nowPlus(tx, '0'))).toBe('free')
      expect(await usageAs(tx, user)).toEqual(freeUsage(t))
    })
  })
})
