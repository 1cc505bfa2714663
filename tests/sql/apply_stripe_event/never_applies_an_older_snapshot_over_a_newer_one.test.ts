import { afterAll, describe, expect, it } from 'vitest'
import { createUser, ownerSql, withRollback } from '../../helpers/db.ts'
import { makeStripeEvent } from '../../helpers/stripe/events.ts'
import { newWorld, nowSeconds, subscriptionFixture } from '../../helpers/stripe/fixtures.ts'
import { applyEvent, ledgerRow, subscriptionsOf } from './support.ts'

const sql = ownerSql()
afterAll(() => sql.end())

const T = nowSeconds() - 3600

describe('apply_stripe_event keeps a watermark per Stripe object', () => {
  it('records an older snapshot that arrives late as stale and keeps the newer state', async () => {
    await withRollback(sql, async (tx) => {
      const world = newWorld((await createUser(tx)).id)
      const newer = makeStripeEvent(
        'customer.subscription.updated',
        subscriptionFixture(world, { periodStart: T, status: 'past_due' }),
        { created: T + 10 },
      )
      const older = makeStripeEvent(
        'customer.subscription.created',
        subscriptionFixture(world, { periodStart: T }),
        { created: T },
      )
      expect(await applyEvent(tx, newer)).toMatchObject({ outcome: 'applied' })
      expect(await applyEvent(tx, older)).toEqual({
        outcome: 'stale',
        event_id: older.id,
        type: 'customer.subscription.created',
      })
      expect((await subscriptionsOf(tx, world.userId)).map((s) => s.status)).toEqual(['past_due'])
      expect(await ledgerRow(tx, older.id)).toMatchObject({ outcome: 'stale', processed: true })
    })
  })

  it('does not order events of one second by their random ids: a tie waits for the re-fetched object (REVIEW S-4)', async () => {
    await withRollback(sql, async (tx) => {
      const world = newWorld((await createUser(tx)).id)
      const snapshot = (status: string) => subscriptionFixture(world, { periodStart: T, status })
      // Created (incomplete), then updated (active) in the same second, with a lower event id.
      const created = makeStripeEvent('customer.subscription.created', snapshot('incomplete'), {
        id: 'evt_same_second_b',
        created: T,
      })
      const updated = makeStripeEvent('customer.subscription.updated', snapshot('active'), {
        id: 'evt_same_second_a',
        created: T,
      })
      expect((await applyEvent(tx, created)).outcome).toBe('applied')
      expect((await applyEvent(tx, updated)).outcome).toBe('tie')
      expect((await subscriptionsOf(tx, world.userId)).map((s) => s.status)).toEqual(['incomplete'])
      const [ledger] = await tx`select processed_at, outcome from tollgate_private.webhook_events
        where provider = 'stripe' and event_id = 'evt_same_second_a'`
      expect(ledger).toEqual({ processed_at: null, outcome: 'tie' })
      // The webhook re-fetches the subscription from Stripe: its state now settles the second.
      expect((await applyEvent(tx, updated, { subscription: snapshot('active') })).outcome).toBe(
        'applied',
      )
      expect((await subscriptionsOf(tx, world.userId)).map((s) => s.status)).toEqual(['active'])
      // An older event of that second delivered later changes nothing.
      expect((await applyEvent(tx, created)).outcome).toBe('duplicate')
    })
  })

  it('keeps a canceled subscription ended whatever arrives after, same second or not', async () => {
    await withRollback(sql, async (tx) => {
      const world = newWorld((await createUser(tx)).id)
      const snapshot = (status: string) => subscriptionFixture(world, { periodStart: T, status })
      await applyEvent(tx, makeStripeEvent('customer.subscription.created', snapshot('active'), { created: T }))
      await applyEvent(
        tx,
        makeStripeEvent('customer.subscription.deleted', snapshot('canceled'), { created: T + 5 }),
      )
      // An update of the live subscription, delivered late but stamped later (clock skew, retries).
      const late = makeStripeEvent('customer.subscription.updated', snapshot('active'), {
        created: T + 6,
      })
      expect((await applyEvent(tx, late)).outcome).toBe('stale')
      expect((await subscriptionsOf(tx, world.userId)).map((s) => s.status)).toEqual(['canceled'])
    })
  })
})
