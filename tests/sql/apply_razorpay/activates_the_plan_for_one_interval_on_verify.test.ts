import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback, type Tx } from '../../helpers/db.ts'
import {
  checkoutOrder,
  counterOf,
  invoicesOf,
  orderRefOf,
  subscriptionsOf,
  verifyPayment,
} from './support.ts'

// Moments the expectations are built from, by the database (now() is fixed inside a transaction).
const clockOf = async (tx: Tx) => {
  const [row] = await tx<{ now: Date; monthLater: Date; graceEnd: Date }[]>`
    select now() as "now",
      (now() at time zone 'UTC' + interval '1 month') at time zone 'UTC' as "monthLater",
      (now() at time zone 'UTC' + interval '1 month') at time zone 'UTC' + interval '3 days'
        as "graceEnd"`
  if (!row) throw new Error('no clock')
  return row
}

// Compared in SQL: JS dates drop the microseconds of now().
const periodIsOneMonthFromNow = async (tx: Tx, userId: string): Promise<boolean> => {
  const [row] = await tx<{ ok: boolean }[]>`
    select bool_and(current_period_start = now()
      and current_period_end = (now() at time zone 'UTC' + interval '1 month') at time zone 'UTC'
      and billing_cycle_anchor = now()) as ok
    from tollgate.subscriptions where user_id = ${userId}::uuid`
  return row?.ok ?? false
}

describe('apply_razorpay_payment from verify-payment (the caller owns the order)', () => {
  it('activates the order plan for one month from now and records one paid invoice', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const order = await checkoutOrder(tx, user.id)
      expect(order).toMatchObject({ kind: 'new', amount: 2900, currency: 'usd', coupon: null })
      const clock = await clockOf(tx)

      const result = await verifyPayment(tx, user.id, order.orderId, {
        paymentId: 'pay_VerifyOne0001',
      })

      const subscriptions = await subscriptionsOf(tx, user.id)
      expect(subscriptions).toHaveLength(1)
      const [subscription] = subscriptions
      expect(result).toEqual({
        outcome: 'applied',
        subscription_id: subscription?.id,
        user_id: user.id,
        invoice_id: expect.any(String),
      })
      expect(subscription).toMatchObject({
        plan_id: 'pro',
        status: 'active',
        provider: 'razorpay',
        current_period_start: clock.now,
        current_period_end: clock.monthLater,
        cancel_at_period_end: false,
      })
      expect(await periodIsOneMonthFromNow(tx, user.id)).toBe(true)
      expect(await invoicesOf(tx, user.id)).toEqual([
        {
          subscription_id: subscription?.id,
          provider: 'razorpay',
          number: order.orderId,
          status: 'paid',
          currency: 'usd',
          amount_due: '2900',
          amount_paid: '2900',
          period_start: clock.now,
          period_end: clock.monthLater,
          paid_at: clock.now,
        },
      ])
      expect(await orderRefOf(tx, order.orderId)).toMatchObject({
        user_id: user.id,
        local_id: subscription?.id,
        details: { checkout_id: order.checkoutId, plan_id: 'pro', amount: 2900, currency: 'usd' },
      })
      const [payment] = await tx<{ local_id: string; parent_id: string; user_id: string }[]>`
        select local_id, parent_id, user_id from tollgate_private.provider_refs
        where provider = 'razorpay' and object_type = 'payment'
          and provider_id = 'pay_VerifyOne0001'`
      expect(payment).toEqual({
        local_id: result.invoice_id,
        parent_id: order.orderId,
        user_id: user.id,
      })
      // The plan's quotas follow at once; a paid-once plan is re-checked at period end + grace.
      expect(await counterOf(tx, user.id)).toMatchObject({
        plan_id: 'pro',
        used: '0',
        base_quota: '100000',
        valid_until: clock.graceEnd,
      })
    })
  })

  it('changes nothing when the same order is verified again', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const order = await checkoutOrder(tx, user.id)
      const first = await verifyPayment(tx, user.id, order.orderId, {
        paymentId: 'pay_VerifyTwo0001',
      })
      const before = {
        subscriptions: await subscriptionsOf(tx, user.id),
        invoices: await invoicesOf(tx, user.id),
      }

      const again = await verifyPayment(tx, user.id, order.orderId, {
        paymentId: 'pay_VerifyTwo0001',
      })

      expect(again).toEqual({
        outcome: 'duplicate',
        subscription_id: first.subscription_id,
        user_id: user.id,
      })
      expect(await subscriptionsOf(tx, user.id)).toEqual(before.subscriptions)
      expect(await invoicesOf(tx, user.id)).toEqual(before.invoices)
      expect(before.invoices).toHaveLength(1)
    })
  })
})
