import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback } from '../../helpers/db.ts'
import {
  clock,
  consume,
  insertSubscription,
  nowPlus,
  planAt,
  setStatus,
  usageAs,
} from './support.ts'

const statuses = ['unpaid', 'canceled', 'incomplete', 'incomplete_expired', 'paused']

describe('a pro subscription that stops paying', () => {
  it.for(statuses)(
    'puts the user back on free quotas when it becomes %s',
    async (status, { sql, user }) => {
      await withRollback(sql, async (tx) => {
        const sub = await insertSubscription(tx, user.id, { planId: 'pro' })
        expect(await consume(tx, user.id, 'api_calls', 10)).toMatchObject({ quota: 101000 })
        await setStatus(tx, sub.id, status)

        const t = await clock(tx)
        expect(await planAt(tx, user.id, await nowPlus(tx, '0'))).toBe('free')
        expect(await usageAs(tx, user)).toEqual([
          {
            metric: 'api_calls',
            period: 'month',
            // Still the period pro started counting now: free's month ends it, nothing resets it.
            period_start: t.now,
            period_end: t.nextMonthStart,
            used: '10',
            quota: '1000',
            remaining: '990',
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
        ])
      })
    },
  )

  it.for(statuses)(
    'starts a user on free when it is inserted as %s',
    async (status, { sql, user }) => {
      await withRollback(sql, async (tx) => {
        await insertSubscription(tx, user.id, { planId: 'enterprise', status })
        expect(await consume(tx, user.id, 'api_calls', 1)).toMatchObject({
          allowed: true,
          used: 1,
          quota: 1000,
          remaining: 999,
        })
      })
    },
  )
})
