import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback } from '../../helpers/db.ts'
import { at, consumeAt, counter, insertSub, planAt, updateSub } from './support.ts'

describe('a Stripe renewal that fails (past_due)', () => {
  it('keeps the plan for the grace counted from the failure, not from the unpaid period end (REVIEW S-2)', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      // Renewed (Stripe moved the period) a day ago, and the payment failed.
      await insertSub(tx, user.id, {
        plan: 'pro',
        status: 'past_due',
        start: '-1 day',
        end: '1 month -1 day',
        anchor: '-1 month -1 day',
      })
      expect(await planAt(tx, user.id, '2 days -1 second')).toBe('pro')
      expect(await planAt(tx, user.id, '2 days')).toBe('free')
      expect(await planAt(tx, user.id, '25 days')).toBe('free')
    })
  })

  it('runs the last paid period on through the grace instead of opening the unpaid month', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      // The paid month ends in an hour.
      const id = await insertSub(tx, user.id, {
        plan: 'pro',
        start: '-1 month +1 hour',
        end: '1 hour',
        anchor: '-1 month +1 hour',
      })
      const paid = await consumeAt(tx, user.id, 'api_calls', 100)
      expect(paid).toMatchObject({ allowed: true, used: 100 })
      // Stripe renews in an hour, the payment fails.
      await updateSub(tx, id, { status: 'past_due', start: '1 hour', end: '1 month 1 hour' })
      const inGrace = await consumeAt(tx, user.id, 'api_calls', 1, '2 hours')
      expect(inGrace).toMatchObject({ allowed: true, used: 101, quota: paid.quota })
      expect(new Date(inGrace.period_end ?? '')).toEqual(new Date(await at(tx, '3 days 1 hour')))
      expect(await consumeAt(tx, user.id, 'api_calls', paid.quota, '1 day')).toMatchObject({
        allowed: false,
      })
      // Paid after all: the renewed month is counted from zero.
      await updateSub(tx, id, { status: 'active' })
      expect(await consumeAt(tx, user.id, 'api_calls', 1, '1 day')).toMatchObject({
        allowed: true,
        used: 1,
      })
      expect(await counter(tx, user.id, 'api_calls')).toMatchObject({
        period_start: new Date(await at(tx, '1 hour')),
        period_end: new Date(await at(tx, '1 month 1 hour')),
      })
    })
  })

  it('gives nothing new in a period that opened before the failure was known', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const id = await insertSub(tx, user.id, {
        plan: 'pro',
        start: '-1 hour',
        end: '1 month -1 hour',
        anchor: '-1 month -1 hour',
      })
      // The counter rolled into the renewed month before the payment failed.
      expect(await consumeAt(tx, user.id, 'api_calls', 10)).toMatchObject({
        allowed: true,
        used: 10,
      })
      await updateSub(tx, id, { status: 'past_due' })
      expect(await consumeAt(tx, user.id, 'api_calls', 1)).toMatchObject({
        allowed: false,
        used: 10,
        quota: 10,
      })
      await updateSub(tx, id, { status: 'active' })
      expect(await consumeAt(tx, user.id, 'api_calls', 1)).toMatchObject({
        allowed: true,
        used: 11,
      })
    })
  })
})

describe('a one-off (Razorpay) payment', () => {
  it('gives one monthly quota for one payment: the grace runs the paid month on (REVIEW S-3 a)', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      await insertSub(tx, user.id, {
        plan: 'pro',
        provider: 'razorpay',
        start: '-1 month +1 day',
        end: '1 day',
      })
      const paid = await consumeAt(tx, user.id, 'api_calls', 1000)
      expect(paid).toMatchObject({ allowed: true, used: 1000 })
      // One hour after the paid end, in the 3 days of grace: the same month, what it left.
      const inGrace = await consumeAt(tx, user.id, 'api_calls', 1, '1 day 1 hour')
      expect(inGrace).toMatchObject({ allowed: true, used: 1001, quota: paid.quota })
      expect(new Date(inGrace.period_end ?? '')).toEqual(new Date(await at(tx, '4 days')))
      expect(await consumeAt(tx, user.id, 'api_calls', paid.quota, '2 days')).toMatchObject({
        allowed: false,
      })
      // After the grace: free, counted from zero in free's month.
      expect(await planAt(tx, user.id, '4 days')).toBe('free')
    })
  })
})

describe('a Stripe trial ended early', () => {
  it('starts the paid month at once with the full quota (REVIEW S-5)', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const id = await insertSub(tx, user.id, {
        plan: 'pro',
        status: 'trialing',
        start: '-5 days',
        end: '9 days',
        anchor: '9 days',
        trialEnd: '9 days',
      })
      const { quota } = await counter(tx, user.id, 'api_calls')
      expect(await consumeAt(tx, user.id, 'api_calls', quota)).toMatchObject({ allowed: true })
      // The user ends the trial now and pays: Stripe moves the anchor and the period to now.
      await updateSub(tx, id, {
        status: 'active',
        start: '0',
        end: '1 month',
        anchor: '0',
        trialEnd: '0',
      })
      expect(await consumeAt(tx, user.id, 'api_calls', 1)).toMatchObject({
        allowed: true,
        used: 1,
        quota: 100_000,
      })
      expect(await consumeAt(tx, user.id, 'api_calls', 1, '9 days')).toMatchObject({
        allowed: true,
        used: 2,
      })
    })
  })
})
