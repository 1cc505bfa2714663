import { afterAll, describe, expect, it } from 'vitest'
import { createUser, ownerSql, withRollback } from '../../helpers/db.ts'
import { makeStripeEvent } from '../../helpers/stripe/events.ts'
import { newWorld, subscriptionFixture } from '../../helpers/stripe/fixtures.ts'
import { applyEvent, ledgerRow } from './support.ts'

const sql = ownerSql()
afterAll(() => sql.end())

describe('apply_stripe_event after record_webhook_failure', () => {
  it('applies the retried event and fills in what the failure note did not know', async () => {
    await withRollback(sql, async (tx) => {
      const world = newWorld((await createUser(tx)).id)
      const event = makeStripeEvent('customer.subscription.created', subscriptionFixture(world))
      await tx`
        select tollgate_private.record_webhook_failure(
          'stripe', ${event.id}, ${event.type}, ${
        JSON.stringify(event)
      }::text::jsonb, 'INTRN: database restarted')`
      expect(await ledgerRow(tx, event.id)).toMatchObject({ processed: false, attempts: 1 })

      expect(await applyEvent(tx, event)).toMatchObject({ outcome: 'applied' })
      expect(await ledgerRow(tx, event.id)).toEqual({
        type: 'customer.subscription.created',
        api_version: '2026-10-28.endive',
        event_created_at: event.created,
        outcome: 'applied',
        error: null,
        attempts: 2,
        processed: true,
      })
    })
  })
})
