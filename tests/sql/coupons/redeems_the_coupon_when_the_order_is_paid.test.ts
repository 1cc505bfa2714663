import { describe, expect } from 'vitest'
import { razorpayId } from '../../helpers/fake-razorpay.ts'
import { pgError, withRollback } from '../../helpers/db.ts'
import {
  applyEvent,
  checkoutOrder,
  eventFor,
  invoicesOf,
  verifyPayment,
} from '../apply_razorpay/support.ts'
import { couponOf, it, prepare, redemptionsOf } from './support.ts'

describe('a Razorpay order checked out with a coupon', () => {
  it('is paid at the reduced amount, which redeems the reserved use', async ({
    sql,
    user,
    coupons,
  }) => {
    const code = await coupons.create({ maxUses: 10, percentOff: 20 })
    await withRollback(sql, async (tx) => {
      const order = await checkoutOrder(tx, user.id, { coupon: code })
      expect(order).toMatchObject({ amount: 2320, coupon: { code } })

      await applyEvent(tx, razorpayId(''), await eventFor(tx, 'payment.captured', order))

      expect(await invoicesOf(tx, user.id)).toMatchObject([
        { amount_due: '2320', amount_paid: '2320' },
      ])
      expect(await redemptionsOf(tx, code, user.id)).toMatchObject([
        { checkout_ref: order.checkoutId, status: 'redeemed' },
      ])
      expect(await couponOf(tx, code)).toMatchObject({ times_redeemed: 1 })
      // The renewal cannot use it again.
      expect((await pgError(prepare(tx, user.id, code))).code).toBe('CPUSD')
    })
  })

  it('counts the use when an earlier checkout is paid after a newer one took the reservation', async ({
    sql,
    user,
    coupons,
  }) => {
    const code = await coupons.create({ maxUses: 10, percentOff: 20 })
    await withRollback(sql, async (tx) => {
      // Two tabs: two orders at the reduced price; the reservation now points at the second.
      const first = await checkoutOrder(tx, user.id, { coupon: code })
      const second = await checkoutOrder(tx, user.id, { coupon: code })
      expect([first.amount, second.amount]).toEqual([2320, 2320])

      await verifyPayment(tx, user.id, first.orderId)

      // The user has paid with the coupon: it is used, and no later checkout gets it again.
      expect(await redemptionsOf(tx, code, user.id)).toMatchObject([{ status: 'redeemed' }])
      expect((await pgError(prepare(tx, user.id, code))).code).toBe('CPUSD')
    })
  })
})
