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

  it('orders events created in the same second by event id', async () => {
    await withRollback(sql, async (tx) => {
      const world = newWorld((await createUser(tx)).id)
      const snapshot = (status: string) => subscriptionFixture(world, { periodStart: T, status })
      const b = makeStripeEvent('customer.subscription.updated', snapshot('past_due'), {
        id: 'evt_same_second_b',
        created: T,
      })
      const a = makeStripeEvent('customer.subscription.updated', snapshot('active'), {
        id: 'evt_same_second_a',
        created: T,
      })
      const c = makeStripeEvent('customer.subscription.updated', snapshot('unpaid'), {
        id: 'evt_same_second_c',
        created: T,
      })
      expect((await applyEvent(tx, b)).outcome).toBe('applied')
      expect((await applyEvent(tx, a)).outcome).toBe('stale')
      expect((await subscriptionsOf(tx, world.userId)).map((s) => s.status)).toEqual(['past_due'])
      expect((await applyEvent(tx, c)).outcome).toBe('applied')
      expect((await subscriptionsOf(tx, world.userId)).map((s) => s.status)).toEqual(['unpaid'])
    })
  })
})
