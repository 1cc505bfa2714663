import { describe, expect } from 'vitest'
import { createUser, type TestUser, type Tx, withRollback } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'
import { makeStripeEvent } from '../../helpers/stripe/events.ts'
import {
  ENTERPRISE_PRICE,
  invoiceFixture,
  MONTH,
  newWorld,
  nowSeconds,
  subscriptionFixture,
} from '../../helpers/stripe/fixtures.ts'
import { applyEvent } from '../apply_stripe_event/support.ts'

const T = nowSeconds() - 3600

type Row = { kind: string; data: Record<string, unknown>; read_at: Date | null }

/**
 * The user's notifications as the user reads them through PostgREST (role authenticated, their
 * claims, RLS), oldest first: in a savepoint, whose rollback takes the role and claims back.
 */
const mine = async (tx: Tx, user: TestUser): Promise<Row[]> => {
  let rows: Row[] = []
  await tx
    .savepoint(async (sp) => {
      await sp`
        select pg_catalog.set_config('role', 'authenticated', true),
          pg_catalog.set_config('request.jwt.claims', ${JSON.stringify(user.claims)}, true)`
      rows = await sp<Row[]>`select kind, data, read_at from tollgate.notifications order by created_at, kind`
      throw new Error('rollback')
    })
    .catch((error: Error) => {
      if (error.message !== 'rollback') throw error
    })
  return rows
}

/** The email outbox rows of a user (owner view). */
const outbox = (tx: Tx, userId: string) =>
  tx<{ kind: string; state: string; idempotency_key: string }[]>`
    select kind, state, idempotency_key from tollgate_private.email_outbox
    where user_id = ${userId} order by created_at, kind`

describe('notifications written by the events that cause them', () => {
  it('a failed renewal notifies payment_failed once, however often the event arrives, and queues one email', async ({
    sql,
  }) => {
    await withRollback(sql, async (tx) => {
      const user = await createUser(tx)
      const stranger = await createUser(tx)
      const world = newWorld(user.id)
      await applyEvent(
        tx,
        makeStripeEvent('customer.subscription.created', subscriptionFixture(world, { periodStart: T }), {
          created: T,
        }),
      )
      const pastDue = makeStripeEvent(
        'customer.subscription.updated',
        subscriptionFixture(world, { periodStart: T, status: 'past_due' }),
        { created: T + 60 },
      )
      // The same delivery three times, then the same snapshot in another event.
      for (let i = 0; i < 3; i++) await applyEvent(tx, pastDue)
      await applyEvent(
        tx,
        makeStripeEvent(
          'customer.subscription.updated',
          subscriptionFixture(world, { periodStart: T, status: 'past_due' }),
          { created: T + 120 },
        ),
      )

      const rows = await mine(tx, user)
      expect(rows.map((r) => r.kind)).toEqual(['payment_failed'])
      expect(rows[0]?.data).toMatchObject({ plan_id: 'pro', currency: 'usd', amount: expect.any(Number) })
      // The plan ends 3 days (the seeded grace) after the failure: Stripe already moved the period
      // to start at it, so the end of that new period is a month too late.
      expect(new Date(String(rows[0]?.data.grace_ends_at)).getTime()).toBe((T + 3 * 86400) * 1000)
      expect(rows[0]?.read_at).toBeNull()
      expect(await outbox(tx, user.id)).toEqual([
        { kind: 'payment_failed', state: 'queued', idempotency_key: expect.stringMatching(/^tollgate-notification\//) },
      ])
      expect(await mine(tx, stranger)).toEqual([])
    })
  })

  it('notifies cancel_scheduled and plan_changed once per change, and a paid invoice payment_succeeded once', async ({
    sql,
  }) => {
    await withRollback(sql, async (tx) => {
      const user = await createUser(tx)
      const world = newWorld(user.id)
      await applyEvent(
        tx,
        makeStripeEvent('customer.subscription.created', subscriptionFixture(world, { periodStart: T }), {
          created: T,
        }),
      )
      const paid = makeStripeEvent(
        'invoice.paid',
        invoiceFixture(world, { status: 'paid', amountDue: 2900, amountPaid: 2900, periodStart: T, created: T + 10 }),
        { created: T + 10 },
      )
      await applyEvent(tx, paid)
      await applyEvent(tx, paid)
      const upgraded = makeStripeEvent(
        'customer.subscription.updated',
        subscriptionFixture(world, { periodStart: T, price: ENTERPRISE_PRICE }),
        { created: T + 20 },
      )
      await applyEvent(tx, upgraded)
      await applyEvent(tx, upgraded)
      const canceling = makeStripeEvent(
        'customer.subscription.updated',
        subscriptionFixture(world, { periodStart: T, price: ENTERPRISE_PRICE, cancelAtPeriodEnd: true }),
        { created: T + 30 },
      )
      await applyEvent(tx, canceling)
      await applyEvent(tx, canceling)

      const rows = await mine(tx, user)
      expect(rows.map((r) => r.kind).sort()).toEqual(['cancel_scheduled', 'payment_succeeded', 'plan_changed'])
      const byKind = Object.fromEntries(rows.map((r) => [r.kind, r.data]))
      expect(byKind.payment_succeeded).toMatchObject({ amount: 2900, currency: 'usd', plan_id: 'pro' })
      expect(byKind.plan_changed).toMatchObject({ previous_plan_id: 'pro', plan_id: 'enterprise' })
      expect(byKind.cancel_scheduled).toMatchObject({
        plan_id: 'enterprise',
        ends_at: expect.any(String),
      })
      expect((await outbox(tx, user.id)).length).toBe(3)
    })
  })

  it('notifies subscription_ended at commit when nothing replaced it, and not when another plan did', async ({
    sql,
  }) => {
    await withRollback(sql, async (tx) => {
      const user = await createUser(tx)
      const world = newWorld(user.id)
      await applyEvent(
        tx,
        makeStripeEvent('customer.subscription.created', subscriptionFixture(world, { periodStart: T }), {
          created: T,
        }),
      )
      const ended = subscriptionFixture(world, {
        periodStart: T,
        status: 'canceled',
        canceledAt: T + 60,
        endedAt: T + 60,
      })
      await applyEvent(tx, makeStripeEvent('customer.subscription.deleted', ended, { created: T + 60 }))
      await applyEvent(tx, makeStripeEvent('customer.subscription.deleted', ended, { created: T + 60 }))
      // Deferred to commit: nothing yet.
      expect((await mine(tx, user)).map((r) => r.kind)).toEqual([])
      await tx`set constraints all immediate`
      expect((await mine(tx, user)).map((r) => r.kind)).toEqual(['subscription_ended'])
    })

    await withRollback(sql, async (tx) => {
      const user = await createUser(tx)
      const first = newWorld(user.id)
      const second = { ...newWorld(user.id), customerId: first.customerId }
      await applyEvent(
        tx,
        makeStripeEvent('customer.subscription.created', subscriptionFixture(first, { periodStart: T }), {
          created: T,
        }),
      )
      // Upgrading through a new checkout: the new subscription replaces the old one.
      await applyEvent(
        tx,
        makeStripeEvent(
          'customer.subscription.created',
          subscriptionFixture(second, { periodStart: T + 60, price: ENTERPRISE_PRICE }),
          { created: T + 60 },
        ),
      )
      await tx`set constraints all immediate`
      expect((await mine(tx, user)).map((r) => r.kind)).not.toContain('subscription_ended')
    })
  })

  it('writes nothing for a renewal that only moves the period', async ({ sql }) => {
    await withRollback(sql, async (tx) => {
      const user = await createUser(tx)
      const world = newWorld(user.id)
      await applyEvent(
        tx,
        makeStripeEvent('customer.subscription.created', subscriptionFixture(world, { periodStart: T - MONTH }), {
          created: T - MONTH,
        }),
      )
      await applyEvent(
        tx,
        makeStripeEvent('customer.subscription.updated', subscriptionFixture(world, { periodStart: T }), {
          created: T,
        }),
      )
      await tx`set constraints all immediate`
      expect(await mine(tx, user)).toEqual([])
    })
  })

  it('Stripe’s trial_will_end and maintenance’s own reminder make one trial_ending', async ({ sql }) => {
    await withRollback(sql, async (tx) => {
      const user = await createUser(tx)
      const world = newWorld(user.id)
      const trialEnd = nowSeconds() + 2 * 24 * 3600
      const trialing = subscriptionFixture(world, {
        periodStart: T,
        periodEnd: trialEnd,
        status: 'trialing',
        trialEnd,
      })
      await applyEvent(tx, makeStripeEvent('customer.subscription.created', trialing, { created: T }))
      const reminder = makeStripeEvent('customer.subscription.trial_will_end', trialing, { created: T + 60 })
      await applyEvent(tx, reminder)
      await applyEvent(tx, reminder)
      await tx`select tollgate_private.send_reminders()`
      const rows = await mine(tx, user)
      expect(rows.map((r) => r.kind)).toEqual(['trial_ending'])
      expect(rows[0]?.data).toMatchObject({ plan_id: 'pro', trial_end: expect.any(String) })
    })
  })
})
