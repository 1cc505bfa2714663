import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { razorpayId } from '../../helpers/fake-razorpay.ts'
import { pgError, withRollback } from '../../helpers/db.ts'
import { applyEvent, eventFor, ledgerOf, orderRefOf, verifyPayment } from './support.ts'

describe('a payment of an order Tollgate never created', () => {
  it('is refused to verify-payment (NOORD)', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const error = await pgError(verifyPayment(tx, user.id, razorpayId('order')))
      expect(error.code).toBe('NOORD')
    })
  })

  it('is recorded as unlinked by the webhook, applying nothing', async ({ sql }) => {
    await withRollback(sql, async (tx) => {
      const orderId = razorpayId('order')
      const eventId = razorpayId('')
      const result = await applyEvent(
        tx,
        eventId,
        await eventFor(tx, 'payment.captured', { orderId, amount: 2900, currency: 'usd' }),
      )
      expect(result).toMatchObject({
        outcome: 'unlinked',
        error: `order ${orderId} was not created by Tollgate`,
        event_id: eventId,
        type: 'payment.captured',
      })
      expect(await ledgerOf(tx, eventId)).toMatchObject({
        outcome: 'unlinked',
        processed: true,
        error: `order ${orderId} was not created by Tollgate`,
      })
      expect(await orderRefOf(tx, orderId)).toBeUndefined()
    })
  })
})
