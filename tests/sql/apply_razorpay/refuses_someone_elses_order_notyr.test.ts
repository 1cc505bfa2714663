import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { pgError, withRollback } from '../../helpers/db.ts'
import { checkoutOrder, invoicesOf, orderRefOf, subscriptionsOf, verifyPayment } from './support.ts'

describe('verify-payment of an order that belongs to another user', () => {
  it('refuses it (NOTYR) and changes nothing for either user', async ({ sql, users }) => {
    const alice = await users.create()
    const mallory = await users.create()
    await withRollback(sql, async (tx) => {
      const order = await checkoutOrder(tx, alice.id)
      // A failed statement aborts the transaction: a savepoint lets the test look afterwards.
      await tx`savepoint before_refusal`
      expect((await pgError(verifyPayment(tx, mallory.id, order.orderId))).code).toBe('NOTYR')
      await tx`rollback to savepoint before_refusal`
      expect(await subscriptionsOf(tx, mallory.id)).toEqual([])
      expect(await subscriptionsOf(tx, alice.id)).toEqual([])
      expect(await invoicesOf(tx, alice.id)).toEqual([])
      expect(await orderRefOf(tx, order.orderId)).toMatchObject({
        user_id: alice.id,
        local_id: null,
      })
      // Alice can still pay her own order.
      expect(await verifyPayment(tx, alice.id, order.orderId)).toMatchObject({ outcome: 'applied' })
    })
  })
})
