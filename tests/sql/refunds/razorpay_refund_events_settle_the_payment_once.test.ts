import { describe, expect } from 'vitest'
import { withRollback, type Queryable } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'
import { notificationsOf, paidPurchase, purchaseState } from './support.ts'

const refundEvent = (paymentId: string, refundId: string, amount: number, status: string, event: string, at: number) => ({
  entity: 'event',
  account_id: 'acc_BFQ7uQEaa7j2z7',
  event,
  contains: ['refund', 'payment'],
  payload: {
    refund: {
      entity: {
        id: refundId, entity: 'refund', amount, currency: 'INR', payment_id: paymentId, notes: [], receipt: null,
        acquirer_data: { arn: null }, created_at: at, batch_id: null, status, speed_processed: 'normal', speed_requested: 'normal',
      },
    },
    payment: { entity: { id: paymentId, entity: 'payment', amount: 100000, currency: 'INR', status: 'refunded' } },
  },
  created_at: at,
})

const apply = async (q: Queryable, eventId: string, event: object) => {
  const [row] = await q<{ r: Record<string, any> }[]>`
    select tollgate_private.apply_razorpay_event(${eventId}, ${JSON.stringify(event)}::text::jsonb) as r`
  return row!.r
}

describe('Razorpay refund events', () => {
  it('refund.created (pending) then refund.processed refund the purchase once, in either order', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const purchase = await paidPurchase(tx, user.id, { provider: 'razorpay', amount: 100000, currency: 'inr' })
      const at = Math.floor(Date.now() / 1000)
      const id = 'rfnd_' + purchase.paymentId.slice(4)
      // Same second, processed delivered first: the pending one never takes it back.
      const processed = await apply(tx, 'evt_rp_2', refundEvent(purchase.paymentId, id, 100000, 'processed', 'refund.processed', at))
      await apply(tx, 'evt_rp_1', refundEvent(purchase.paymentId, id, 100000, 'pending', 'refund.created', at))
      await apply(tx, 'evt_rp_2', refundEvent(purchase.paymentId, id, 100000, 'processed', 'refund.processed', at))

      expect(processed).toMatchObject({ outcome: 'applied', status: 'refunded' })
      expect(await purchaseState(tx, purchase.id)).toEqual({
        status: 'refunded', amount_refunded: 100000, granted: 50000, remaining: 0, revoked: true,
      })
      expect(await notificationsOf(tx, user.id, 'payment_refunded')).toHaveLength(1)
    })
  })

  it('a failed refund counts for nothing; a partial one marks it partially refunded', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const purchase = await paidPurchase(tx, user.id, { provider: 'razorpay', amount: 100000, currency: 'inr' })
      const at = Math.floor(Date.now() / 1000)
      await apply(tx, 'evt_rf_1', refundEvent(purchase.paymentId, 'rfnd_fail0001', 50000, 'failed', 'refund.failed', at))
      await apply(tx, 'evt_rf_2', refundEvent(purchase.paymentId, 'rfnd_part0001', 25000, 'processed', 'refund.processed', at))
      expect(await purchaseState(tx, purchase.id)).toMatchObject({ status: 'partially_refunded', amount_refunded: 25000, remaining: 50000 })
    })
  })

  it('refunds of an order payment set the invoice amount_refunded', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const [invoice] = await tx<{ id: string }[]>`
        insert into tollgate.invoices (user_id, provider, status, currency, amount_due, amount_paid, paid_at)
        values (${user.id}, 'razorpay', 'paid', 'inr', 49900, 49900, now()) returning id`
      // As apply_razorpay_payment writes it: no details.kind, local_id the invoice.
      await tx`insert into tollgate_private.provider_refs (provider, object_type, provider_id, local_id, user_id, parent_id)
        values ('razorpay', 'payment', 'pay_inv00000001', ${invoice!.id}, ${user.id}, 'order_x')`
      await apply(tx, 'evt_ri_1', refundEvent('pay_inv00000001', 'rfnd_inv0000001', 10000, 'processed', 'refund.processed', Math.floor(Date.now() / 1000)))
      const [row] = await tx`select amount_refunded::int as n from tollgate.invoices where id = ${invoice!.id}`
      expect(row!.n).toBe(10000)
    })
  })
})
