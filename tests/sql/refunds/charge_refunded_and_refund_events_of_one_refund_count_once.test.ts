import { describe, expect } from 'vitest'
import { withRollback } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'
import { applyStripe, chargeObject, paidPurchase, purchaseState, refundObject } from './support.ts'

describe('charge.refunded and refund.* about the same refund', () => {
  it('count it once when the charge carries only amount_refunded (API 2022-11-15 on)', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const purchase = await paidPurchase(tx, user.id)
      const charge = chargeObject(purchase.paymentId, 1000, 400)
      const refund = refundObject(purchase.paymentId, 400, 'succeeded', { charge: charge.id })
      const at = Math.floor(Date.now() / 1000)

      await applyStripe(tx, 'charge.refunded', charge, { created: at })
      await applyStripe(tx, 'refund.created', refund, { created: at })
      await applyStripe(tx, 'refund.updated', refund, { created: at + 1 })

      expect(await purchaseState(tx, purchase.id)).toMatchObject({ status: 'partially_refunded', amount_refunded: 400 })
    })
  })

  it('count it once when an older API version embeds the refunds in the charge', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const purchase = await paidPurchase(tx, user.id)
      const first = refundObject(purchase.paymentId, 300, 'succeeded')
      const second = refundObject(purchase.paymentId, 200, 'succeeded')
      const at = Math.floor(Date.now() / 1000)

      await applyStripe(tx, 'refund.updated', first, { created: at })
      await applyStripe(tx, 'charge.refunded', chargeObject(purchase.paymentId, 1000, 500, { refunds: [first, second] }),
        { created: at + 1, apiVersion: '2020-03-02' })
      await applyStripe(tx, 'refund.created', second, { created: at + 2 })

      expect(await purchaseState(tx, purchase.id)).toMatchObject({ status: 'partially_refunded', amount_refunded: 500 })
      const [{ n }] = await tx`select count(*)::int as n from tollgate.notifications where user_id = ${user.id} and kind = 'payment_refunded'`
      expect(n).toBe(2)
    })
  })

  it('a later charge snapshot with everything refunded completes the refund; an older one changes nothing', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const purchase = await paidPurchase(tx, user.id)
      const charge = chargeObject(purchase.paymentId, 1000, 1000)
      const at = Math.floor(Date.now() / 1000)
      await applyStripe(tx, 'charge.refunded', charge, { created: at })
      await applyStripe(tx, 'charge.refunded', { ...charge, amount_refunded: 300 }, { created: at - 60 })
      expect(await purchaseState(tx, purchase.id)).toMatchObject({ status: 'refunded', amount_refunded: 1000, remaining: 0 })
    })
  })
})
