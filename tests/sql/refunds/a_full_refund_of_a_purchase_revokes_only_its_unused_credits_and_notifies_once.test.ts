import { describe, expect } from 'vitest'
import { withRollback } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'
import { applyStripe, notificationsOf, paidPurchase, purchaseState, refundObject } from './support.ts'

describe('a full refund of a purchase', () => {
  it('marks it refunded, takes back the unused credits and leaves the used ones used', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const purchase = await paidPurchase(tx, user.id)
      // 20,000 of the 50,000 credits were used.
      await tx`update tollgate.credit_balances set remaining = 30000 where id = ${purchase.grantId}`
      const refund = refundObject(purchase.paymentId, 1000, 'succeeded')

      const result = await applyStripe(tx, 'refund.created', refund)

      expect(result).toMatchObject({ outcome: 'applied', purchase_id: purchase.id, status: 'refunded', amount_refunded: 1000, credits_revoked: 30000 })
      expect(await purchaseState(tx, purchase.id)).toEqual({
        status: 'refunded', amount_refunded: 1000, granted: 50000, remaining: 0, revoked: true,
      })
      const [{ n }] = await tx`select count(*)::int as n from tollgate.credit_balances where remaining < 0`
      expect(n).toBe(0)
    })
  })

  it('counts a refund once however often and through whichever event it arrives, and notifies once', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const purchase = await paidPurchase(tx, user.id)
      const refund = refundObject(purchase.paymentId, 1000, 'succeeded')
      const created = Math.floor(Date.now() / 1000)

      await applyStripe(tx, 'refund.created', refund, { created })
      await applyStripe(tx, 'refund.updated', refund, { created: created + 1 })
      await applyStripe(tx, 'charge.refund.updated', refund, { created: created + 2 })

      expect(await purchaseState(tx, purchase.id)).toMatchObject({ status: 'refunded', amount_refunded: 1000 })
      const notices = await notificationsOf(tx, user.id, 'payment_refunded')
      expect(notices).toHaveLength(1)
      expect(notices[0]!.data).toMatchObject({ amount: 1000, currency: 'usd', product_name: expect.any(String), refund_id: refund.id })
      const audits = await tx`select new_values from tollgate_private.audit_log where record_id = ${purchase.id}`
      expect(audits.map((a) => a.new_values)).toEqual([{ status: 'refunded', amount_refunded: 1000 }])
    })
  })
})
