import { afterAll, describe, expect, it } from 'vitest'
import { razorpayId } from '../../helpers/fake-razorpay.ts'
import { ownerSql, pgError, withRollback } from '../../helpers/db.ts'
import { applyEvent, eventFor, ledgerOf, orderRefOf, testUsers, verifyPayment } from './support.ts'

const sql = ownerSql()
const users = testUsers(sql)
afterAll(async () => {
  await users.drop()
  await sql.end()
})

describe('a payment of an order Tollgate never created', () => {
  it('is refused to verify-payment (NOORD)', async () => {
    const user = await users.create()
    await withRollback(sql, async (tx) => {
      const error = await pgError(verifyPayment(tx, user.id, razorpayId('order')))
      expect(error.code).toBe('NOORD')
    })
  })

  it('is recorded as unlinked by the webhook, applying nothing', async () => {
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
