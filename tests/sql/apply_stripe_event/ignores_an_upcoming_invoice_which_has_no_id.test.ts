import { afterAll, describe, expect, it } from 'vitest'
import { createUser, ownerSql, withRollback } from '../../helpers/db.ts'
import { makeStripeEvent } from '../../helpers/stripe/events.ts'
import { invoiceFixture, newWorld } from '../../helpers/stripe/fixtures.ts'
import { applyEvent, ledgerRow } from './support.ts'

const sql = ownerSql()
afterAll(() => sql.end())

describe('apply_stripe_event and invoice.upcoming', () => {
  // Stripe sends invoice.upcoming days before a renewal; its invoice does not exist yet and has no
  // id. Raising BADEV makes the webhook answer 400, which Stripe retries for days.
  it('records it as ignored instead of refusing it', async () => {
    await withRollback(sql, async (tx) => {
      const world = newWorld((await createUser(tx)).id)
      const upcoming = invoiceFixture(world, { status: 'draft' })
      delete upcoming.id
      const event = makeStripeEvent('invoice.upcoming', upcoming)
      expect(await applyEvent(tx, event)).toMatchObject({ outcome: 'ignored' })
      expect(await ledgerRow(tx, event.id)).toMatchObject({ outcome: 'ignored', processed: true })
    })
  })
})
