import { describe, expect } from 'vitest'
import { withRollback } from '../../helpers/db.ts'
import { makeStripeEvent } from '../../helpers/stripe/events.ts'
import { checkoutSessionFixture, newWorld, nowSeconds } from '../../helpers/stripe/fixtures.ts'
import { applyEvent } from '../apply_stripe_event/support.ts'
import { checkoutOrder, verifyPayment } from '../apply_razorpay/support.ts'
import { countsOf, it, overrunAuditOf, prepare, statusesOf } from './support.ts'

// Review M-1 (b), with Stripe: a delayed payment method (completed unpaid) succeeds days later,
// after maintenance gave the use back and others took every use.
describe('a Stripe checkout with a coupon paid after its reservation was released', () => {
  it('is an audited overrun when no use is left (max_uses 1), never a second use', async ({
    sql,
    users,
    coupons,
  }) => {
    const [late, other] = [await users.create(), await users.create()]
    const code = await coupons.create({ maxUses: 1, percentOff: 20 })
    await withRollback(sql, async (tx) => {
      const prepared = await prepare(tx, late.id, code, { provider: 'stripe' })
      const world = newWorld(late.id)
      await tx`
        select tollgate_private.record_checkout(${late.id}::uuid, 'stripe', ${world.sessionId},
          ${prepared.checkout_id}::uuid, 'pro', ${prepared.amount}::bigint, 'usd')`
      const metadata = {
        user_id: late.id,
        plan_id: 'pro',
        tollgate_checkout_id: prepared.checkout_id,
      }
      const at = nowSeconds() - 600
      await applyEvent(
        tx,
        makeStripeEvent(
          'checkout.session.completed',
          checkoutSessionFixture(world, { paymentStatus: 'unpaid', metadata, created: at }),
          { created: at },
        ),
      )
      // Maintenance gives the use back two days later; another user takes the only use.
      await tx`select tollgate_private.settle_coupon(${prepared.checkout_id}, false)`
      const taken = await checkoutOrder(tx, other.id, { coupon: code })
      await verifyPayment(tx, other.id, taken.orderId)

      await applyEvent(
        tx,
        makeStripeEvent(
          'checkout.session.async_payment_succeeded',
          checkoutSessionFixture(world, { metadata, created: at }),
          { created: at + 60 },
        ),
      )

      expect(await countsOf(tx, code)).toEqual({ times_redeemed: 1, times_overrun: 1 })
      expect(await statusesOf(tx, code, late.id)).toEqual([
        { status: 'overrun', checkout_ref: prepared.checkout_id },
      ])
      expect(await overrunAuditOf(tx, late.id)).toHaveLength(1)
    })
  })
})
