import { describe, expect } from 'vitest'
import { withRollback } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'
import { eventId, makeStripeEvent } from '../../helpers/stripe/events.ts'
import { applyStripe, paidPurchase, purchaseState, refundObject } from './support.ts'

describe('refund events out of order', () => {
  it('a refund.updated older than what was applied changes nothing', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const purchase = await paidPurchase(tx, user.id)
      const refund = refundObject(purchase.paymentId, 1000, 'succeeded')
      const at = Math.floor(Date.now() / 1000)
      // It succeeded, then failed: the failure arrives first.
      await applyStripe(tx, 'refund.failed', { ...refund, status: 'failed' }, { created: at + 10 })
      const late = await applyStripe(tx, 'refund.updated', refund, { created: at })
      expect(late.outcome).toBe('stale')
      expect(await purchaseState(tx, purchase.id)).toMatchObject({ status: 'paid', amount_refunded: 0, revoked: false })
    })
  })

  it('a pending refund never replaces a final one, even in the same second', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const purchase = await paidPurchase(tx, user.id)
      const refund = refundObject(purchase.paymentId, 250, 'succeeded')
      const at = Math.floor(Date.now() / 1000)
      // Ids that sort the pending event after the final one: the status still decides.
      await applyStripe(tx, 'refund.updated', refund, { created: at, id: 'evt_A' + eventId().slice(4) })
      await applyStripe(tx, 'refund.created', { ...refund, status: 'pending' }, { created: at, id: 'evt_Z' + eventId().slice(4) })
      expect(await purchaseState(tx, purchase.id)).toMatchObject({ status: 'partially_refunded', amount_refunded: 250 })
    })
  })

  it('shuffled and repeated deliveries of two refunds end in the same state', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const purchase = await paidPurchase(tx, user.id)
      const a = refundObject(purchase.paymentId, 600, 'succeeded')
      const b = refundObject(purchase.paymentId, 400, 'succeeded')
      const at = Math.floor(Date.now() / 1000)
      const events = [
        makeStripeEvent('refund.created', { ...a, status: 'pending' }, { created: at }),
        makeStripeEvent('refund.updated', a, { created: at + 1 }),
        makeStripeEvent('refund.created', b, { created: at + 2 }),
      ]
      for (const event of [events[2], events[1], events[0], events[1], events[2]]) {
        await tx`select tollgate_private.apply_stripe_event(${JSON.stringify(event)}::text::jsonb)`
      }
      expect(await purchaseState(tx, purchase.id)).toMatchObject({ status: 'refunded', amount_refunded: 1000, remaining: 0 })
      const [{ n }] = await tx`select count(*)::int as n from tollgate.notifications where user_id = ${user.id} and kind = 'payment_refunded'`
      expect(n).toBe(2)
    })
  })

  it('a refund of a payment Tollgate does not know is recorded as unlinked', async ({ sql }) => {
    await withRollback(sql, async (tx) => {
      const result = await applyStripe(tx, 'refund.created', refundObject('pi_unknown', 100, 'succeeded'))
      expect(result.outcome).toBe('unlinked')
    })
  })
})
