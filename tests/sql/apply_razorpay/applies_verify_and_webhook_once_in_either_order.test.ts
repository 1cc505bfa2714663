import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { razorpayId } from '../../helpers/fake-razorpay.ts'
import { withRollback } from '../../helpers/db.ts'
import {
  applyEvent,
  checkoutOrder,
  eventFor,
  invoicesOf,
  ledgerOf,
  subscriptionsOf,
  verifyPayment,
} from './support.ts'

describe('verify-payment and the webhook for the same payment', () => {
  it('applies once when verify-payment comes first and the webhook second', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const order = await checkoutOrder(tx, user.id)
      const paymentId = razorpayId('pay')
      const verified = await verifyPayment(tx, user.id, order.orderId, { paymentId })
      expect(verified).toMatchObject({ outcome: 'applied' })
      const eventId = razorpayId('')

      const hooked = await applyEvent(
        tx,
        eventId,
        await eventFor(tx, 'payment.captured', order, { paymentId }),
      )

      expect(hooked).toMatchObject({
        outcome: 'applied',
        subscription_id: verified.subscription_id,
      })
      expect(hooked).not.toHaveProperty('invoice_id')
      expect(await subscriptionsOf(tx, user.id)).toMatchObject([
        { id: verified.subscription_id, plan_id: 'pro', status: 'active' },
      ])
      expect(await invoicesOf(tx, user.id)).toHaveLength(1)
      expect(await ledgerOf(tx, eventId)).toMatchObject({ outcome: 'applied', processed: true })
    })
  })

  it('applies once when the webhook comes first and verify-payment second', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const order = await checkoutOrder(tx, user.id)
      const paymentId = razorpayId('pay')
      const hooked = await applyEvent(
        tx,
        razorpayId(''),
        await eventFor(tx, 'order.paid', order, { paymentId }),
      )
      expect(hooked).toMatchObject({ outcome: 'applied', invoice_id: expect.any(String) })
      const before = await subscriptionsOf(tx, user.id)

      const verified = await verifyPayment(tx, user.id, order.orderId, { paymentId })

      expect(verified).toEqual({
        outcome: 'duplicate',
        subscription_id: hooked.subscription_id,
        user_id: user.id,
      })
      expect(await subscriptionsOf(tx, user.id)).toEqual(before)
      expect(before).toHaveLength(1)
      expect(await invoicesOf(tx, user.id)).toHaveLength(1)
    })
  })
})
