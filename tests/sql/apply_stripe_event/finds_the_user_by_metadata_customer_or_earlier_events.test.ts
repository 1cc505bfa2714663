import { afterAll, describe, expect, it } from 'vitest'
import { createUser, ownerSql, withRollback } from '../../helpers/db.ts'
import { makeStripeEvent } from '../../helpers/stripe/events.ts'
import { invoiceFixture, newWorld, subscriptionFixture } from '../../helpers/stripe/fixtures.ts'
import { applyEvent, subscriptionsOf } from './support.ts'

const sql = ownerSql()
afterAll(() => sql.end())

describe('apply_stripe_event links Stripe objects to users', () => {
  it('uses the customer linked earlier when a later snapshot has no metadata.user_id', async () => {
    await withRollback(sql, async (tx) => {
      const world = newWorld((await createUser(tx)).id)
      const created = makeStripeEvent('customer.subscription.created', subscriptionFixture(world))
      await applyEvent(tx, created)
      const bare = subscriptionFixture(world, { status: 'past_due', metadata: {} })
      const result = await applyEvent(
        tx,
        makeStripeEvent('customer.subscription.updated', bare, { created: Number(created.created) + 1 }),
      )
      expect(result).toMatchObject({ outcome: 'applied', user_id: world.userId })
      expect((await subscriptionsOf(tx, world.userId)).map((s) => s.status)).toEqual(['past_due'])
    })
  })

  it('links an invoice by its customer even without subscription metadata', async () => {
    await withRollback(sql, async (tx) => {
      const world = newWorld((await createUser(tx)).id)
      await applyEvent(
        tx,
        makeStripeEvent('customer.subscription.created', subscriptionFixture(world)),
      )
      const invoice = invoiceFixture(world)
      invoice.parent.subscription_details.metadata = {}
      const result = await applyEvent(tx, makeStripeEvent('invoice.paid', invoice))
      expect(result).toMatchObject({ outcome: 'applied', user_id: world.userId })
    })
  })

  it('answers unlinked, not an error, for a user id that is not a uuid', async () => {
    await withRollback(sql, async (tx) => {
      const world = newWorld('not-a-uuid')
      const result = await applyEvent(
        tx,
        makeStripeEvent('customer.subscription.created', subscriptionFixture(world)),
      )
      expect(result).toMatchObject({ outcome: 'unlinked' })
    })
  })
})
