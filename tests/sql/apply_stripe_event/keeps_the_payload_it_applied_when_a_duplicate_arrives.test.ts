import { afterAll, describe, expect, it } from 'vitest'
import { createUser, ownerSql, type Tx, withRollback } from '../../helpers/db.ts'
import { makeStripeEvent, type StripeJson } from '../../helpers/stripe/events.ts'
import { newWorld, subscriptionFixture } from '../../helpers/stripe/fixtures.ts'
import { applyEvent, ledgerRow } from './support.ts'

const sql = ownerSql()
afterAll(() => sql.end())

const storedPayload = async (tx: Tx, eventId: string): Promise<StripeJson | undefined> => {
  const [row] = await tx<{ payload: StripeJson }[]>`
    select payload from tollgate_private.webhook_events
    where provider = 'stripe' and event_id = ${eventId}`
  return row?.payload
}

describe('apply_stripe_event and the stored payload', () => {
  it('keeps the payload an event was applied from when a duplicate arrives', async () => {
    await withRollback(sql, async (tx) => {
      const world = newWorld((await createUser(tx)).id)
      const event = makeStripeEvent('customer.subscription.created', subscriptionFixture(world))
      expect(await applyEvent(tx, event)).toMatchObject({ outcome: 'applied' })
      const redelivered = { ...event, request: { id: 'req_redelivered', idempotency_key: null } }
      expect(await applyEvent(tx, redelivered)).toMatchObject({ outcome: 'duplicate' })
      expect(await storedPayload(tx, event.id)).toEqual(event)
      expect(await ledgerRow(tx, event.id)).toMatchObject({ attempts: 2, processed: true })
    })
  })

  it('stores the payload of the delivery that applies an event noted as failed', async () => {
    await withRollback(sql, async (tx) => {
      const world = newWorld((await createUser(tx)).id)
      const event = makeStripeEvent('customer.subscription.created', subscriptionFixture(world))
      const noted = { ...event, request: { id: 'req_failed', idempotency_key: null } }
      await tx`
        select tollgate_private.record_webhook_failure(
          'stripe', ${event.id}, ${event.type}, ${JSON.stringify(noted)}::text::jsonb,
          'INTRN: database restarted')`
      expect(await applyEvent(tx, event)).toMatchObject({ outcome: 'applied' })
      expect(await storedPayload(tx, event.id)).toEqual(event)
    })
  })
})
