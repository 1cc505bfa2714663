import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback } from '../../helpers/db.ts'
import {
  consume,
  countersOf,
  dateOf,
  insertSubscription,
  nowPlus,
  planAt,
  usageAs,
} from './support.ts'

// Stripe renewed the pro subscription a day ago (it moved the period) and the payment failed.
const pastDue = { planId: 'pro', status: 'past_due', start: '-1 day', end: '1 month -1 day' }

describe('a past_due subscription', () => {
  it('keeps pro until 3 days after the failure (the unpaid period start), then falls back to free', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      await insertSubscription(tx, user.id, pastDue)
      const graceEnd = await nowPlus(tx, '2 days')
      const justBefore = await nowPlus(tx, '2 days -1 second')

      expect(await planAt(tx, user.id, justBefore)).toBe('pro')
      // The plan's gauges apply and its hourly rate limit runs on (a rate, not a paid allowance:
      // 0 an hour would be worse than free); the unpaid month opens no metered quota.
      expect((await usageAs(tx, user)).map((r) => [r.metric, r.quota])).toEqual([
        ['api_calls', '0'],
        ['api_keys', '20'],
        ['projects', '100'],
        ['requests', '1000'],
        ['storage_gb', '50'],
      ])
      expect(await consume(tx, user.id, 'requests', 1)).toMatchObject({ allowed: true, used: 1, quota: 1000 })
      // The next hour starts afresh at pro's rate, still inside the grace.
      const [next] = await tx<{ at: string }[]>`select (date_trunc('hour', now()) + interval '1 hour 1 second')::text as at`
      expect(await consume(tx, user.id, 'requests', 1, next!.at)).toMatchObject({
        allowed: true,
        used: 1,
        quota: 1000,
      })
      expect(await consume(tx, user.id, 'api_calls', 1)).toMatchObject({ allowed: false, used: 0 })
      expect(await consume(tx, user.id, 'projects', 5)).toMatchObject({ allowed: true, used: 5 })
      expect(await countersOf(tx, user.id)).toMatchObject({
        projects: { plan_id: 'pro', valid_until: await dateOf(tx, graceEnd) },
      })

      // The grace ends 3 days after the failure (exclusive): free from that moment on.
      expect(await planAt(tx, user.id, graceEnd)).toBe('free')
      expect(await consume(tx, user.id, 'api_calls', 1, graceEnd)).toMatchObject({
        allowed: true,
        used: 1,
        quota: 1000,
      })
      expect(await consume(tx, user.id, 'projects', 1, graceEnd)).toMatchObject({
        allowed: false,
        used: 5,
        quota: 3,
      })
    })
  })

  it('follows tollgate_private.settings.past_due_grace when an admin lengthens it', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      await insertSubscription(tx, user.id, pastDue)
      await tx`update tollgate_private.settings set past_due_grace = interval '7 days'`
      const afterDefaultGrace = await nowPlus(tx, '2 days 1 second')
      const graceEnd = await nowPlus(tx, '6 days')

      expect(await planAt(tx, user.id, afterDefaultGrace)).toBe('pro')
      expect(await consume(tx, user.id, 'projects', 1, afterDefaultGrace)).toMatchObject({
        allowed: true,
        used: 1,
        quota: 100,
      })
      expect(await countersOf(tx, user.id)).toMatchObject({
        projects: { plan_id: 'pro', valid_until: await dateOf(tx, graceEnd) },
      })
      expect(await planAt(tx, user.id, graceEnd)).toBe('free')
    })
  })

  it('falls back to free at once when past_due_grace is set to zero', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      await tx`update tollgate_private.settings set past_due_grace = interval '0'`
      await insertSubscription(tx, user.id, pastDue)
      expect(await planAt(tx, user.id, await nowPlus(tx, '0'))).toBe('free')
      expect((await usageAs(tx, user)).map((r) => [r.metric, r.used, r.quota])).toEqual([
        ['api_calls', '0', '1000'],
        ['api_keys', '0', '2'],
        ['projects', '0', '3'],
        ['requests', '0', '100'],
        ['storage_gb', '0', '1'],
      ])
    })
  })
  it('counts the grace from the end of the last paid period when Stripe failed a second renewal', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      // The first month was paid; the renewal a month ago failed, and so did the one a day ago:
      // Stripe moved the period both times, so current_period_start is the second failure.
      const sub = await insertSubscription(tx, user.id, pastDue)
      expect(await consume(tx, user.id, 'projects', 5)).toMatchObject({ allowed: true, used: 5, quota: 100 })

      // The paid invoice of the first month arrives (its event was older, or late): the grace
      // ran out a month ago. The plan ends at once, for the view and for consume.
      await tx`
        insert into tollgate.invoices (user_id, subscription_id, provider, status, currency, amount_due,
          amount_paid, period_start, period_end, paid_at)
        values (${user.id}::uuid, ${sub.id}::uuid, 'stripe', 'paid', 'usd', 2900, 2900,
          (now() at time zone 'UTC' - interval '2 months 1 day') at time zone 'UTC',
          (now() at time zone 'UTC' - interval '1 month 1 day') at time zone 'UTC', now() - interval '2 months')`
      expect(await planAt(tx, user.id, await nowPlus(tx, '0'))).toBe('free')
      expect(await consume(tx, user.id, 'projects', 1)).toMatchObject({ allowed: false, used: 5, quota: 3 })
      expect((await usageAs(tx, user)).map((r) => [r.metric, r.quota])).toEqual([
        ['api_calls', '1000'],
        ['api_keys', '2'],
        ['projects', '3'],
        ['requests', '100'],
        ['storage_gb', '1'],
      ])

      // A paid invoice of the period that failed first (a retry that succeeded) gives its grace back.
      await tx`
        insert into tollgate.invoices (user_id, subscription_id, provider, status, currency, amount_due,
          amount_paid, period_start, period_end, paid_at)
        values (${user.id}::uuid, ${sub.id}::uuid, 'stripe', 'paid', 'usd', 2900, 2900,
          (now() at time zone 'UTC' - interval '1 month 1 day') at time zone 'UTC',
          (now() at time zone 'UTC' - interval '1 day') at time zone 'UTC', now())`
      expect(await planAt(tx, user.id, await nowPlus(tx, '0'))).toBe('pro')
      expect(await consume(tx, user.id, 'projects', 1)).toMatchObject({ allowed: true, used: 6, quota: 100 })
    })
  })
})
