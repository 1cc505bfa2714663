import { describe, expect } from 'vitest'
import { pgError, withRollback } from '../../helpers/db.ts'
import { razorpayId } from '../../helpers/fake-razorpay.ts'
import { applyEvent, checkoutOrder, eventFor, verifyPayment } from '../apply_razorpay/support.ts'
import { countsOf, it, overrunAuditOf, prepare, redemptionsOf, statusesOf } from './support.ts'

// Review M-1 (a): three orders opened with a once-per-account coupon before paying each carried
// the discount; paying all three renewed three times at the discount with one use counted.
describe('three Razorpay orders opened with one coupon before paying any (CPUSD after)', () => {
  it('holds one use for the newest order only', async ({ sql, user, coupons }) => {
    const code = await coupons.create({ maxUses: 10, percentOff: 20 })
    await withRollback(sql, async (tx) => {
      const orders = [
        await checkoutOrder(tx, user.id, { coupon: code }),
        await checkoutOrder(tx, user.id, { coupon: code }),
        await checkoutOrder(tx, user.id, { coupon: code }),
      ]
      expect(orders.map((order) => order.amount)).toEqual([2320, 2320, 2320])
      expect(await countsOf(tx, code)).toEqual({ times_redeemed: 1, times_overrun: 0 })
      expect(await redemptionsOf(tx, code, user.id)).toMatchObject([
        { status: 'reserved', checkout_ref: orders[2]?.checkoutId },
      ])
    })
  })

  it('redeems the one use with the first paid and records the two others as audited overruns', async ({
    sql,
    user,
    coupons,
  }) => {
    const code = await coupons.create({ maxUses: 10, percentOff: 20 })
    await withRollback(sql, async (tx) => {
      const orders = [
        await checkoutOrder(tx, user.id, { coupon: code }),
        await checkoutOrder(tx, user.id, { coupon: code }),
        await checkoutOrder(tx, user.id, { coupon: code }),
      ]
      // Paid oldest first, by verify-payment and by the webhook: each renews (the money was taken).
      await verifyPayment(tx, user.id, orders[0]?.orderId ?? '')
      const second = orders[1]
      if (!second) throw new Error('no order')
      await applyEvent(tx, razorpayId(''), await eventFor(tx, 'payment.captured', second))
      await verifyPayment(tx, user.id, orders[2]?.orderId ?? '')
      // The same payments applied again change nothing.
      await verifyPayment(tx, user.id, orders[0]?.orderId ?? '')
      await applyEvent(tx, razorpayId(''), await eventFor(tx, 'order.paid', second))

      expect(await countsOf(tx, code)).toEqual({ times_redeemed: 1, times_overrun: 2 })
      expect(await statusesOf(tx, code, user.id)).toEqual(
        [
          { status: 'overrun', checkout_ref: orders[1]?.checkoutId },
          { status: 'overrun', checkout_ref: orders[2]?.checkoutId },
          { status: 'redeemed', checkout_ref: orders[0]?.checkoutId },
        ].sort((a, b) =>
          a.status === b.status
            ? String(a.checkout_ref).localeCompare(String(b.checkout_ref))
            : a.status.localeCompare(b.status),
        ),
      )
      const audit = await overrunAuditOf(tx, user.id)
      expect(audit.map((row) => row.new_values.checkout_ref).sort()).toEqual(
        [orders[1]?.checkoutId, orders[2]?.checkoutId].sort(),
      )
      expect(audit.every((row) => row.table_name === 'coupon_redemptions')).toBe(true)
      expect((await pgError(prepare(tx, user.id, code))).code).toBe('CPUSD')
    })
  })
})
