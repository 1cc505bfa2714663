import { afterAll, describe, expect, it } from 'vitest'
import { createUser, ownerSql, type Tx, withRollback } from '../../helpers/db.ts'
import { makeStripeEvent } from '../../helpers/stripe/events.ts'
import {
  invoiceFixture,
  MONTH,
  newWorld,
  nowSeconds,
  subscriptionFixture,
} from '../../helpers/stripe/fixtures.ts'
import { applyEvent, tableWrites } from './support.ts'

const sql = ownerSql()
afterAll(() => sql.end())

const T = nowSeconds() - 3 * MONTH

const refWrites = (tx: Tx) => tableWrites(tx, 'tollgate_private.provider_refs')

// provider_refs writes of one event, and what apply_stripe_event answered.
const writesOf = async (tx: Tx, event: Record<string, unknown>) => {
  const before = await refWrites(tx)
  const result = await applyEvent(tx, event)
  const after = await refWrites(tx)
  return {
    outcome: result.outcome,
    inserted: after.inserted - before.inserted,
    updated: after.updated - before.updated,
    hot: after.hot - before.hot,
  }
}

describe('apply_stripe_event writes provider_refs', () => {
  it('inserts a new subscription or invoice ref whole, linked, and moves a known one in one HOT update', async () => {
    await withRollback(sql, async (tx) => {
      const user = await createUser(tx)
      const world = newWorld(user.id)
      const snapshot = (month: number) =>
        subscriptionFixture(world, {
          periodStart: T + month * MONTH,
          periodEnd: T + (month + 1) * MONTH,
        })
      const created = makeStripeEvent('customer.subscription.created', snapshot(0), { created: T })
      expect(await writesOf(tx, created)).toEqual({
        outcome: 'applied',
        inserted: 1,
        updated: 0,
        hot: 0,
      })
      const invoice = invoiceFixture(world, { periodStart: T, periodEnd: T + MONTH, created: T + 1 })
      const paid = makeStripeEvent('invoice.paid', invoice, { created: T + 1 })
      expect(await writesOf(tx, paid)).toEqual({
        outcome: 'applied',
        inserted: 1,
        updated: 0,
        hot: 0,
      })
      // A renewal moves the known subscription's watermark only.
      expect(
        await writesOf(
          tx,
          makeStripeEvent('customer.subscription.updated', snapshot(1), { created: T + MONTH }),
        ),
      ).toEqual({ outcome: 'applied', inserted: 0, updated: 1, hot: 1 })
      // A late event writes nothing.
      expect(
        await writesOf(
          tx,
          makeStripeEvent('customer.subscription.updated', snapshot(0), { created: T + 10 }),
        ),
      ).toEqual({ outcome: 'stale', inserted: 0, updated: 0, hot: 0 })

      const [sub] = await tx`
        select s.id = r.local_id as linked, r.user_id, r.last_event_id
        from tollgate_private.provider_refs r join tollgate.subscriptions s on s.user_id = ${user.id}
        where r.provider = 'stripe' and r.object_type = 'subscription' and r.provider_id = ${world.subscriptionId}`
      expect(sub).toMatchObject({ linked: true, user_id: user.id })
      const [inv] = await tx`
        select i.id = r.local_id as linked, r.user_id, r.parent_id, i.subscription_id = s.id as to_sub
        from tollgate_private.provider_refs r
        join tollgate.invoices i on i.user_id = ${user.id}
        join tollgate.subscriptions s on s.user_id = ${user.id}
        where r.provider = 'stripe' and r.object_type = 'invoice' and r.provider_id = ${invoice.id}`
      expect(inv).toEqual({
        linked: true,
        user_id: user.id,
        parent_id: world.subscriptionId,
        to_sub: true,
      })
    })
  })
})
