import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback } from '../../helpers/db.ts'
import {
  consumeAt,
  counterOf,
  exactMomentOf,
  insertPlan,
  momentOf,
  subscribe,
  uniqueMetric,
} from '../consume_usage/support.ts'

describe('a calendar month (free plan)', () => {
  it('starts a new period at the first consume at or after the month end', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      expect(await consumeAt(tx, user.id, 'api_calls', 5, '2024-02-29T12:00:00Z')).toMatchObject({
        used: 5,
        period_end: '2024-03-01T00:00:00.000Z',
      })
      expect(
        await consumeAt(tx, user.id, 'api_calls', 1, '2024-02-29T23:59:59.999Z'),
      ).toMatchObject({ used: 6, period_end: '2024-03-01T00:00:00.000Z' })
      expect(await consumeAt(tx, user.id, 'api_calls', 3, '2024-03-01T00:00:00Z')).toEqual({
        allowed: true,
        metric: 'api_calls',
        used: 3,
        quota: 1000,
        remaining: 997,
        period_end: '2024-04-01T00:00:00.000Z',
      })
      expect(await counterOf(tx, user.id, 'api_calls')).toMatchObject({
        period_start: '2024-03-01T00:00:00.000Z',
        period_end: '2024-04-01T00:00:00.000Z',
        used: 3,
        quota: 1000,
      })
    })
  })

  it('gives an exhausted quota back in the next month', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      await consumeAt(tx, user.id, 'api_calls', 1000, '2024-02-10T00:00:00Z')
      expect(
        await consumeAt(tx, user.id, 'api_calls', 1, '2024-02-29T23:59:59.999Z'),
      ).toMatchObject({ allowed: false, used: 1000 })
      expect(await consumeAt(tx, user.id, 'api_calls', 1000, '2024-03-01T00:00:00Z')).toMatchObject(
        {
          allowed: true,
          used: 1000,
          remaining: 0,
          period_end: '2024-04-01T00:00:00.000Z',
        },
      )
    })
  })

  it('jumps to the month containing as_of when whole months went by unused', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      await consumeAt(tx, user.id, 'api_calls', 400, '2024-01-20T00:00:00Z')
      expect(await consumeAt(tx, user.id, 'api_calls', 2, '2024-04-15T08:00:00Z')).toMatchObject({
        used: 2,
        period_end: '2024-05-01T00:00:00.000Z',
      })
      expect(await counterOf(tx, user.id, 'api_calls')).toMatchObject({
        period_start: '2024-04-01T00:00:00.000Z',
        period_end: '2024-05-01T00:00:00.000Z',
        used: 2,
      })
    })
  })

  it('never resets a gauge', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      await consumeAt(tx, user.id, 'projects', 2, '2024-01-20T00:00:00Z')
      expect(await consumeAt(tx, user.id, 'projects', 1, '2026-06-01T00:00:00Z')).toMatchObject({
        used: 3,
        period_end: null,
      })
      expect(await consumeAt(tx, user.id, 'projects', 1, '2027-06-01T00:00:00Z')).toMatchObject({
        allowed: false,
        used: 3,
      })
    })
  })
})

describe('a billing month (subscriber, anchored at the subscription start)', () => {
  it("rolls at anchor + 1 month and drops the carried-over quota back to the plan's base", async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      await subscribe(tx, user.id, 'pro')
      // Paid for a year (monthly quotas): the month rolls inside what was paid for.
      await tx`update tollgate.subscriptions
        set current_period_end = (now() at time zone 'UTC' + interval '1 year') at time zone 'UTC'
        where user_id = ${user.id}::uuid`
      const endOf = `(now() at time zone 'UTC' + interval '1 month') at time zone 'UTC'`
      const start = await momentOf(tx, 'now()')
      const end = await momentOf(tx, endOf)
      const next = await momentOf(
        tx,
        `(now() at time zone 'UTC' + interval '2 months') at time zone 'UTC'`,
      )
      // Free's 1000 unused calls were carried over on the upgrade.
      expect(
        await consumeAt(tx, user.id, 'api_calls', 500, await exactMomentOf(tx, 'now()')),
      ).toMatchObject({
        used: 500,
        quota: 101000,
        period_end: end,
      })
      const beforeEnd = await exactMomentOf(tx, `${endOf} - interval '1 microsecond'`)
      expect(await consumeAt(tx, user.id, 'api_calls', 1, beforeEnd)).toMatchObject({
        used: 501,
        quota: 101000,
        period_end: end,
      })
      expect(await consumeAt(tx, user.id, 'api_calls', 10, await exactMomentOf(tx, endOf))).toEqual(
        {
          allowed: true,
          metric: 'api_calls',
          used: 10,
          quota: 100000,
          remaining: 99990,
          period_end: next,
        },
      )
      expect(await counterOf(tx, user.id, 'api_calls')).toMatchObject({
        plan_id: 'pro',
        anchor: start,
        period_start: end,
        period_end: next,
        used: 10,
        quota: 100000,
        base_quota: 100000,
      })
    })
  })
})

describe('hourly and daily limits', () => {
  const hourly = uniqueMetric('per_hour')
  const daily = uniqueMetric('per_day')

  const onTestPlan = async (tx: Parameters<typeof subscribe>[0], userId: string) => {
    const planId = await insertPlan(tx, [
      { metric: hourly, quota: 5, period: 'hour' },
      { metric: daily, quota: 7, period: 'day' },
    ])
    await subscribe(tx, userId, planId)
    return planId
  }

  it('resets an hourly quota at the next UTC hour', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const planId = await onTestPlan(tx, user.id)
      const hour = (offset: string) =>
        momentOf(
          tx,
          `date_trunc('hour', now() at time zone 'UTC') at time zone 'UTC' + interval '${offset}'`,
        )
      expect(
        await consumeAt(tx, user.id, hourly, 5, await hour('59 minutes 59.999 seconds')),
      ).toMatchObject({
        allowed: true,
        used: 5,
        remaining: 0,
        period_end: await hour('1 hour'),
      })
      expect(
        await consumeAt(tx, user.id, hourly, 1, await hour('59 minutes 59.999 seconds')),
      ).toMatchObject({ allowed: false, used: 5 })
      expect(await consumeAt(tx, user.id, hourly, 2, await hour('1 hour'))).toEqual({
        allowed: true,
        metric: hourly,
        used: 2,
        quota: 5,
        remaining: 3,
        period_end: await hour('2 hours'),
      })
      expect(
        await consumeAt(tx, user.id, hourly, 1, await hour('3 hours 30 minutes')),
      ).toMatchObject({
        used: 1,
        period_end: await hour('4 hours'),
      })
      expect(await counterOf(tx, user.id, hourly)).toMatchObject({
        plan_id: planId,
        period: 'hour',
        period_start: await hour('3 hours'),
        period_end: await hour('4 hours'),
        used: 1,
        quota: 5,
      })
    })
  })

  it('resets a daily quota at the next UTC midnight', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const planId = await onTestPlan(tx, user.id)
      const day = (offset: string) =>
        momentOf(
          tx,
          `date_trunc('day', now() at time zone 'UTC') at time zone 'UTC' + interval '${offset}'`,
        )
      const lastMillisecond = await day('23 hours 59 minutes 59.999 seconds')
      expect(await consumeAt(tx, user.id, daily, 7, lastMillisecond)).toMatchObject({
        allowed: true,
        used: 7,
        period_end: await day('1 day'),
      })
      expect(await consumeAt(tx, user.id, daily, 1, lastMillisecond)).toMatchObject({
        allowed: false,
        used: 7,
      })
      expect(await consumeAt(tx, user.id, daily, 4, await day('1 day'))).toEqual({
        allowed: true,
        metric: daily,
        used: 4,
        quota: 7,
        remaining: 3,
        period_end: await day('2 days'),
      })
      expect(await counterOf(tx, user.id, daily)).toMatchObject({
        plan_id: planId,
        period: 'day',
        period_start: await day('1 day'),
        period_end: await day('2 days'),
        used: 4,
      })
    })
  })
})
