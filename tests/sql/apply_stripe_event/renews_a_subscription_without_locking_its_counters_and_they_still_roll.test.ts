import { afterAll, describe, expect, it } from 'vitest'
import { createUser, ownerSql, type Sql, type Tx, withRollback } from '../../helpers/db.ts'
import { makeStripeEvent } from '../../helpers/stripe/events.ts'
import {
  ENTERPRISE_PRICE,
  MONTH,
  newWorld,
  nowSeconds,
  PRO_PRICE,
  type StripeWorld,
  subscriptionFixture,
} from '../../helpers/stripe/fixtures.ts'
import { beginSession, waitingOrFinished } from '../consume_usage/support.ts'
import { countersOf, usageAs } from '../subscriptions/support.ts'
import { applyEvent, subscriptionsOf } from './support.ts'

const sql = ownerSql()
const other = ownerSql({ max: 1 })
const userIds: string[] = []
afterAll(async () => {
  if (userIds.length > 0) {
    await sql.begin(async (tx) => {
      await tx`delete from auth.users where id in ${tx(userIds)}`
      // Not another test file's fake Stripe's business (see tests/helpers/db.ts testUsers).
      await tx`delete from tollgate_private.provider_actions where reason = 'user deleted' and created_at = now()`
    })
  }
  await Promise.all([sql.end(), other.end()])
})

// The subscription began 40 days ago (its billing_cycle_anchor); month 1 is the running period.
const T0 = nowSeconds() - 40 * 24 * 3600

const created = (world: StripeWorld) =>
  makeStripeEvent(
    'customer.subscription.created',
    subscriptionFixture(world, { periodStart: T0, created: T0 }),
    { created: T0 },
  )

// customer.subscription.updated for month `month`, as Stripe sends a renewal.
const renewal = (world: StripeWorld, month: number, price = PRO_PRICE) =>
  makeStripeEvent(
    'customer.subscription.updated',
    subscriptionFixture(world, {
      price,
      periodStart: T0 + month * MONTH,
      periodEnd: T0 + (month + 1) * MONTH,
      created: T0,
    }),
    { created: T0 + month * MONTH + 60 },
  )

const consume = async (q: Sql | Tx, userId: string, amount: number, asOf = 'now()') => {
  const [row] = await q<{ answer: { allowed: boolean; used: number; quota: number } }[]>`
    select tollgate_private.consume_usage(
      ${userId}::uuid, 'api_calls', ${amount}::bigint, null::text, ${asOf}::text::timestamptz
    ) as answer`
  return row?.answer
}

describe('apply_stripe_event with a renewal that only moves the period', () => {
  it('does not wait for a consume in flight on the user, but a plan change does', async () => {
    const user = await createUser(sql)
    userIds.push(user.id)
    const world = newWorld(user.id)
    expect(await applyEvent(sql, created(world))).toMatchObject({ outcome: 'applied' })

    // A consume of the user, not yet committed, holds their api_calls counter.
    const consuming = await beginSession(sql)
    expect(await consume(consuming.q, user.id, 5, 'now')).toMatchObject({ allowed: true })

    const [backend] = await other<{ pid: number }[]>`select pg_catalog.pg_backend_pid() as pid`
    const renewed = applyEvent(other, renewal(world, 1))
    const renewing = await waitingOrFinished(sql, backend?.pid ?? -1, renewed)
    // A plan change must wait: the counters move to the new plan with what was used.
    const upgraded = applyEvent(other, renewal(world, 2, ENTERPRISE_PRICE))
    const upgrading = await waitingOrFinished(sql, backend?.pid ?? -1, upgraded)
    await consuming.end('commit')
    expect(await renewed).toMatchObject({ outcome: 'applied' })
    expect(await upgraded).toMatchObject({ outcome: 'applied' })
    expect({ renewing, upgrading }).toEqual({ renewing: 'finished', upgrading: 'waiting' })

    // A prorated change keeps the billing period: the consume it waited for stays counted, and
    // the quota is enterprise's plus whatever carry-over the period brought in.
    const counters = await sql.begin((tx) => countersOf(tx, user.id))
    const [{ carried } = { carried: '?' }] = await sql<{ carried: string }[]>`
      select carried::text from tollgate_private.usage_counters
      where user_id = ${user.id}::uuid and metric = 'api_calls'`
    expect(counters.api_calls).toMatchObject({
      plan_id: 'enterprise',
      used: '5',
      quota: String(1_000_000 + Number(carried)),
    })
  })

  it('keeps the counters as they were, and they still roll at their own period end', async () => {
    await withRollback(sql, async (tx) => {
      const user = await createUser(tx)
      const world = newWorld(user.id)
      await applyEvent(tx, created(world))
      expect(await consume(tx, user.id, 7)).toMatchObject({ allowed: true, used: 7 })
      const [before] = await tx`
        select to_jsonb(c) as counters from (
          select * from tollgate_private.usage_counters where user_id = ${user.id}::uuid
          order by metric) c`
      const usage = await usageAs(tx, user)

      expect(await applyEvent(tx, renewal(world, 1))).toMatchObject({ outcome: 'applied' })
      expect((await subscriptionsOf(tx, user.id)).map((s) => s.current_period_start)).toEqual([
        T0 + MONTH,
      ])
      const [after] = await tx`
        select to_jsonb(c) as counters from (
          select * from tollgate_private.usage_counters where user_id = ${user.id}::uuid
          order by metric) c`
      expect(after).toEqual(before)
      expect(await usageAs(tx, user)).toEqual(usage)

      // The monthly period counts from the anchor (T0), not from Stripe's 30-day periods; the
      // counter counts since it began counting (free's month start, when later than the window's).
      const counters = await countersOf(tx, user.id)
      const [window] = await tx<{ start: Date; end: Date; counted: Date }[]>`
        select period_start as start, period_end as end,
          greatest(period_start, date_trunc('month', now() at time zone 'UTC') at time zone 'UTC') as counted
        from tollgate_private.period_window('month', to_timestamp(${T0}), now())`
      expect(counters.api_calls).toMatchObject({
        plan_id: 'pro',
        period_start: window?.counted,
        period_end: window?.end,
        used: '7',
        valid_until: null,
      })

      // At its period end the counter rolls on the next consume, as without the renewal.
      const end = counters.api_calls?.period_end?.toISOString() ?? ''
      expect(await consume(tx, user.id, 2, end)).toMatchObject({ allowed: true, used: 2 })
      expect((await countersOf(tx, user.id)).api_calls).toMatchObject({
        period_start: window?.end,
        used: '2',
        quota: '100000',
      })
    })
  })
})
