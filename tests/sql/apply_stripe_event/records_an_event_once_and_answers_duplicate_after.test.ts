import { afterAll, describe, expect, it } from 'vitest'
import { createUser, ownerSql, withRollback } from '../../helpers/db.ts'
import { makeStripeEvent } from '../../helpers/stripe/events.ts'
import { newWorld, subscriptionFixture } from '../../helpers/stripe/fixtures.ts'
import { applyEvent, ledgerRow, subscriptionsOf } from './support.ts'

const sql = ownerSql()
afterAll(() => sql.end())

describe('apply_stripe_event records each event once', () => {
  it('applies an event, then answers duplicate for every further delivery and counts the attempts', async () => {
    await withRollback(sql, async (tx) => {
      const world = newWorld((await createUser(tx)).id)
      const event = makeStripeEvent('customer.subscription.created', subscriptionFixture(world))
      const first = await applyEvent(tx, event)
      expect(first).toEqual({
        outcome: 'applied',
        event_id: event.id,
        type: 'customer.subscription.created',
        subscription_id: expect.any(String),
        user_id: world.userId,
      })
      for (const _ of [1, 2]) {
        expect(await applyEvent(tx, event)).toEqual({
          outcome: 'duplicate',
          event_id: event.id,
          type: 'customer.subscription.created',
        })
      }
      expect(await ledgerRow(tx, event.id)).toEqual({
        type: 'customer.subscription.created',
        api_version: '2026-10-28.endive',
        event_created_at: event.created,
        outcome: 'applied',
        error: null,
        attempts: 3,
        processed: true,
      })
      expect(await subscriptionsOf(tx, world.userId)).toHaveLength(1)
    })
  })

  it('records an event type it does not act on as ignored', async () => {
    await withRollback(sql, async (tx) => {
      const event = makeStripeEvent('charge.succeeded', { id: 'ch_1', object: 'charge' })
      expect(await applyEvent(tx, event)).toEqual({
        outcome: 'ignored',
        event_id: event.id,
        type: 'charge.succeeded',
      })
      expect(await ledgerRow(tx, event.id)).toMatchObject({ outcome: 'ignored', processed: true })
    })
  })
})
