import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { billingHarness, type BillingHarness } from '../../helpers/billing.ts'
import { purchaseOf, purchasePaidAt, signInAdmin } from './admin-refund-support.ts'

let h: BillingHarness
beforeAll(async () => {
  h = await billingHarness()
})
afterAll(() => h.close())

describe('POST /billing/admin/refund (Razorpay)', () => {
  it('refunds the payment with X-Refund-Idempotency; refund.created and refund.processed count it once', async () => {
    const admin = await signInAdmin(h)
    const buyer = await h.signIn()
    const purchase = await purchasePaidAt(h, buyer.id, 'razorpay')

    const answer = await h.post('admin/refund', admin, { purchase_id: purchase.purchaseId, reason: 'duplicate charge' })
    const retried = await h.post('admin/refund', admin, { purchase_id: purchase.purchaseId, reason: 'duplicate charge' })

    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({
      refund: { id: expect.stringMatching(/^rfnd_/), provider: 'razorpay', status: 'processed', amount: 100000, currency: 'inr' },
      amount_refunded: 100000,
      status: 'refunded',
    })
    expect(retried.body).toEqual(answer.body)
    const posts = h.razorpay.requests.filter((r) => r.path === `/v1/payments/${purchase.paymentId}/refund`)
    expect(posts).toHaveLength(1)
    expect(posts[0]!.headers['x-refund-idempotency']).toMatch(/^tollgate-admin-refund:/)
    expect(await purchaseOf(h, purchase.purchaseId)).toEqual({ status: 'refunded', amount_refunded: 100000, remaining: 0 })

    const id = String(answer.body.refund.id)
    for (const hook of [h.razorpay.refundWebhook('refund.created', id), h.razorpay.refundWebhook('refund.processed', id)]) {
      expect((await h.deliverRazorpay(hook)).status).toBe(200)
    }
    expect(await purchaseOf(h, purchase.purchaseId)).toEqual({ status: 'refunded', amount_refunded: 100000, remaining: 0 })
    const [{ n }] = await h.sql`
      select count(*)::int as n from tollgate.notifications where user_id = ${buyer.id} and kind = 'payment_refunded'`
    expect(n).toBe(1)
  })
})
