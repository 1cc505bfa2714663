import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback, type Tx } from '../../helpers/db.ts'
import { razorpayId } from '../../helpers/fake-razorpay.ts'
import { makeStripeEvent } from '../../helpers/stripe/events.ts'
import { newWorld, nowSeconds, subscriptionFixture } from '../../helpers/stripe/fixtures.ts'
import {
  applyEvent,
  checkoutOrder,
  eventFor,
  invoicesOf,
  ledgerOf,
  orderRefOf,
  subscriptionsOf,
  verifyPayment,
} from './support.ts'

const heldAuditOf = (tx: Tx, userId: string) =>
  tx<{ table_name: string; reason: string }[]>`
    select table_name, reason from tollgate_private.audit_log
    where user_id = ${userId}::uuid and reason like '%held%' order by id`

// Review S-1: enterprise paid and live, then a pro order (opened earlier) captured: enterprise
// ended at once, ~29 paid days thrown away, two overlapping paid invoices.
describe('a Razorpay payment for another plan captured while a paid period runs', () => {
  it('records the paid invoice, changes no subscription and holds the order for an operator', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      // Both opened before paying either (prepare_checkout allowed both then).
      const pro = await checkoutOrder(tx, user.id, { planId: 'pro' })
      const enterprise = await checkoutOrder(tx, user.id, { planId: 'enterprise' })
      await verifyPayment(tx, user.id, enterprise.orderId)
      const before = await subscriptionsOf(tx, user.id)

      const eventId = razorpayId('')
      const held = await applyEvent(tx, eventId, await eventFor(tx, 'payment.captured', pro))

      expect(held).toMatchObject({ outcome: 'held', subscription_id: before[0]?.id })
      expect(await subscriptionsOf(tx, user.id)).toEqual(before)
      expect(before).toMatchObject([{ plan_id: 'enterprise', status: 'active' }])
      expect(await invoicesOf(tx, user.id)).toMatchObject([
        { number: enterprise.orderId, amount_paid: '9900', subscription_id: before[0]?.id },
        {
          number: pro.orderId,
          status: 'paid',
          amount_paid: '2900',
          subscription_id: null,
          period_start: null,
          period_end: null,
        },
      ])
      expect(await orderRefOf(tx, pro.orderId)).toMatchObject({
        local_id: null,
        details: { state: 'held' },
      })
      expect(await heldAuditOf(tx, user.id)).toMatchObject([{ table_name: 'invoices' }])
      expect(await ledgerOf(tx, eventId)).toMatchObject({
        outcome: 'applied',
        error: expect.stringMatching(/^held/),
      })

      // verify-payment and order.paid of the same order afterwards: nothing more.
      expect(await verifyPayment(tx, user.id, pro.orderId)).toMatchObject({
        outcome: 'duplicate',
        subscription_id: before[0]?.id,
      })
      await applyEvent(tx, razorpayId(''), await eventFor(tx, 'order.paid', pro))
      expect(await invoicesOf(tx, user.id)).toHaveLength(2)
      expect(await subscriptionsOf(tx, user.id)).toEqual(before)
    })
  })

  it('holds it too while a Stripe subscription is live', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const order = await checkoutOrder(tx, user.id, { planId: 'pro' })
      const world = newWorld(user.id)
      const at = nowSeconds() - 60
      await tx`
        select tollgate_private.apply_stripe_event(${JSON.stringify(
          makeStripeEvent(
            'customer.subscription.created',
            subscriptionFixture(world, { periodStart: at }),
            { created: at },
          ),
        )}::text::jsonb, null)`
      const before = await subscriptionsOf(tx, user.id)
      expect(before).toMatchObject([{ provider: 'stripe', status: 'active' }])

      expect(await verifyPayment(tx, user.id, order.orderId)).toMatchObject({ outcome: 'held' })
      expect(await subscriptionsOf(tx, user.id)).toEqual(before)
      expect(await invoicesOf(tx, user.id)).toMatchObject([
        { number: order.orderId, status: 'paid', subscription_id: null },
      ])
    })
  })

  it('replaces a Razorpay plan whose paid period has run out (in grace)', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const pro = await checkoutOrder(tx, user.id, { planId: 'pro' })
      const enterprise = await checkoutOrder(tx, user.id, { planId: 'enterprise' })
      const paid = await verifyPayment(tx, user.id, pro.orderId)
      await tx`
        update tollgate.subscriptions
        set current_period_start = now() - interval '32 days',
            current_period_end = now() - interval '1 day', status = 'past_due'
        where id = ${paid.subscription_id ?? ''}::uuid`
      expect(await verifyPayment(tx, user.id, enterprise.orderId)).toMatchObject({
        outcome: 'applied',
      })
      expect(await subscriptionsOf(tx, user.id)).toMatchObject([
        { plan_id: 'pro', status: 'canceled' },
        { plan_id: 'enterprise', status: 'active' },
      ])
    })
  })
})
