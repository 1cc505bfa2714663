import { describe, expect } from 'vitest'
import { withRollback } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'
import { applyStripe, paidPurchase, purchaseState, refundObject } from './support.ts'

describe('partial refunds of a purchase', () => {
  it('keep every credit; the refund that completes the amount revokes the unused ones', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const purchase = await paidPurchase(tx, user.id)
      await tx`update tollgate.credit_balances set remaining = 45000 where id = ${purchase.grantId}`

      await applyStripe(tx, 'refund.created', refundObject(purchase.paymentId, 300, 'succeeded'))
      expect(await purchaseState(tx, purchase.id)).toEqual({
        status: 'partially_refunded', amount_refunded: 300, granted: 50000, remaining: 45000, revoked: false,
      })

      await applyStripe(tx, 'refund.created', refundObject(purchase.paymentId, 700, 'succeeded'))
      expect(await purchaseState(tx, purchase.id)).toEqual({
        status: 'refunded', amount_refunded: 1000, granted: 50000, remaining: 0, revoked: true,
      })
    })
  })

  it('a pending, failed or canceled refund counts for nothing', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const purchase = await paidPurchase(tx, user.id)
      await applyStripe(tx, 'refund.created', refundObject(purchase.paymentId, 400, 'pending'))
      await applyStripe(tx, 'refund.created', refundObject(purchase.paymentId, 400, 'failed'))
      await applyStripe(tx, 'refund.created', refundObject(purchase.paymentId, 400, 'canceled'))
      expect(await purchaseState(tx, purchase.id)).toMatchObject({ status: 'paid', amount_refunded: 0 })
    })
  })
})
