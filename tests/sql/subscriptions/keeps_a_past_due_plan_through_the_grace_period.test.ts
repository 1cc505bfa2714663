import { afterAll, describe, expect, it } from 'vitest'
import { ownerSql, withRollback } from '../../helpers/db.ts'
import {
  calendarMonthOf,
  consume,
  countersOf,
  dateOf,
  insertSubscription,
  nowPlus,
  periodEndPlus,
  planAt,
  testUsers,
  usageAs,
} from './support.ts'

const sql = ownerSql()
const users = testUsers(sql)
afterAll(async () => {
  await users.drop()
  await sql.end()
})

// A pro period that ended yesterday and whose renewal payment failed.
const pastDue = { planId: 'pro', status: 'past_due', start: '-1 month -1 day', end: '-1 day' }

describe('a past_due subscription', () => {
  it('keeps pro until current_period_end + 3 days, then falls back to free', async () => {
    const user = await users.create()
    await withRollback(sql, async (tx) => {
      const sub = await insertSubscription(tx, user.id, pastDue)
      const graceEnd = await periodEndPlus(tx, sub.id, '3 days')
      const justBefore = await periodEndPlus(tx, sub.id, '3 days -1 second')
      const justAfter = await periodEndPlus(tx, sub.id, '3 days 1 second')

      expect(await consume(tx, user.id, 'api_calls', 1)).toMatchObject({
        allowed: true,
        used: 1,
        quota: 101000,
        remaining: 100999,
      })
      expect((await usageAs(tx, user)).map((r) => [r.metric, r.quota])).toEqual([
        ['api_calls', '101000'],
        ['projects', '100'],
        ['storage_gb', '50'],
      ])
      expect(await countersOf(tx, user.id)).toMatchObject({
        api_calls: { plan_id: 'pro', valid_until: await dateOf(tx, graceEnd) },
      })

      expect(await planAt(tx, user.id, justBefore)).toBe('pro')
      expect(await consume(tx, user.id, 'api_calls', 1, justBefore)).toMatchObject({
        allowed: true,
        used: 2,
        quota: 101000,
      })

      // The grace ends at current_period_end + 3 days (exclusive): free from that moment on.
      expect(await planAt(tx, user.id, graceEnd)).toBe('free')
      const month = await calendarMonthOf(tx, graceEnd)
      const atGraceEnd = await consume(tx, user.id, 'api_calls', 1, graceEnd)
      expect(atGraceEnd).toEqual({
        allowed: true,
        metric: 'api_calls',
        used: 3,
        quota: 1000,
        remaining: 997,
        period_end: expect.any(String),
      })
      expect(new Date(atGraceEnd.period_end ?? '')).toEqual(month.end)
      expect(await countersOf(tx, user.id)).toMatchObject({
        api_calls: {
          plan_id: 'free',
          period_start: month.start,
          period_end: month.end,
          used: '3',
          quota: '1000',
          base_quota: '1000',
          valid_until: null,
        },
      })

      expect(await planAt(tx, user.id, justAfter)).toBe('free')
      expect(await consume(tx, user.id, 'api_calls', 1, justAfter)).toMatchObject({
        allowed: true,
        used: 4,
        quota: 1000,
      })
      // Every other metric follows at its own next use.
      expect(await consume(tx, user.id, 'projects', 1, justAfter)).toEqual({
        allowed: true,
        metric: 'projects',
        used: 1,
        quota: 3,
        remaining: 2,
        period_end: null,
      })
    })
  })

  it('follows tollgate_private.settings.past_due_grace when an admin lengthens it', async () => {
    const user = await users.create()
    await withRollback(sql, async (tx) => {
      const sub = await insertSubscription(tx, user.id, pastDue)
      await tx`update tollgate_private.settings set past_due_grace = interval '7 days'`
      const afterDefaultGrace = await periodEndPlus(tx, sub.id, '3 days 1 second')
      const graceEnd = await periodEndPlus(tx, sub.id, '7 days')

      expect(await planAt(tx, user.id, afterDefaultGrace)).toBe('pro')
      expect(await consume(tx, user.id, 'api_calls', 1, afterDefaultGrace)).toMatchObject({
        allowed: true,
        used: 1,
        quota: 101000,
      })
      expect(await countersOf(tx, user.id)).toMatchObject({
        api_calls: { plan_id: 'pro', valid_until: await dateOf(tx, graceEnd) },
      })

      expect(await planAt(tx, user.id, graceEnd)).toBe('free')
      expect(await consume(tx, user.id, 'api_calls', 1, graceEnd)).toMatchObject({
        allowed: true,
        used: 2,
        quota: 1000,
      })
    })
  })

  it('falls back to free at once when past_due_grace is set to zero', async () => {
    const user = await users.create()
    await withRollback(sql, async (tx) => {
      await tx`update tollgate_private.settings set past_due_grace = interval '0'`
      await insertSubscription(tx, user.id, pastDue)
      expect(await planAt(tx, user.id, await nowPlus(tx, '0'))).toBe('free')
      expect((await usageAs(tx, user)).map((r) => [r.metric, r.used, r.quota])).toEqual([
        ['api_calls', '0', '1000'],
        ['projects', '0', '3'],
        ['storage_gb', '0', '1'],
      ])
    })
  })
})
