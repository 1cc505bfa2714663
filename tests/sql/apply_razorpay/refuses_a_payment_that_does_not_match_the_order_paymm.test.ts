import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { razorpayId } from '../../helpers/fake-razorpay.ts'
import { pgError, withRollback } from '../../helpers/db.ts'
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

describe('a payment whose amount is not the order amount', () => {
  it('is refused to verify-payment (PAYMM)', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const order = await checkoutOrder(tx, user.id)
      const error = await pgError(verifyPayment(tx, user.id, order.orderId, { amount: 100 }))
      expect(error.code).toBe('PAYMM')
    })
  })

  it('is recorded as unlinked by the webhook; the right payment still applies later', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const order = await checkoutOrder(tx, user.id)
      const short = razorpayId('')
      const result = await applyEvent(
        tx,
        short,
        await eventFor(tx, 'payment.captured', order, { amount: 100 }),
      )
      expect(result).toMatchObject({ outcome: 'unlinked', error: 'paid 100, order 2900' })
      expect(await ledgerOf(tx, short)).toMatchObject({ outcome: 'unlinked', processed: true })
      expect(await subscriptionsOf(tx, user.id)).toEqual([])
      expect(await invoicesOf(tx, user.id)).toEqual([])
      expect(await orderRefOf(tx, order.orderId)).toMatchObject({ local_id: null })

      const full = await applyEvent(tx, razorpayId(''), await eventFor(tx, 'order.paid', order))
      expect(full).toMatchObject({ outcome: 'applied', invoice_id: expect.any(String) })
      expect(await subscriptionsOf(tx, user.id)).toMatchObject([
        { plan_id: 'pro', status: 'active' },
      ])
    })
  })
})
