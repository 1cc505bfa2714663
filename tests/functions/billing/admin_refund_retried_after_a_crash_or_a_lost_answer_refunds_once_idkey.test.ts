import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { refundStripePayment, stripeClientFor } from '../../../packages/providers/stripe/src/index.ts'
import { envOf } from '../../../packages/core/src/index.ts'
import { billingHarness, type BillingHarness } from '../../helpers/billing.ts'
import { purchaseOf, purchasePaidAt, signInAdmin } from './admin-refund-support.ts'

let h: BillingHarness
beforeAll(async () => {
  h = await billingHarness()
})
afterAll(() => h.close())

const refundsAtStripe = (paymentIntent: string) =>
  [...h.stripe.state.refunds.values()].filter((r) => r.payment_intent === paymentIntent)

describe('a retried admin refund', () => {
  it('after a crash between the provider call and the record: the same key, one refund at Stripe', async () => {
    const admin = await signInAdmin(h)
    const buyer = await h.signIn()
    const purchase = await purchasePaidAt(h, buyer.id)
    // The first attempt wrote its request and reached Stripe, then died before recording the answer.
    const [{ prepared }] = await h.sql`
      select tollgate_private.prepare_admin_refund(${admin.id}, null, ${purchase.purchaseId}, 250, 'crash test', null) as prepared`
    await refundStripePayment(stripeClientFor(envOf(h.env)), {
      paymentIntent: purchase.paymentId,
      amount: 250,
      idempotencyKey: prepared.idempotency_key,
      requestId: prepared.request_id,
    })

    const retry = await h.post('admin/refund', admin, { purchase_id: purchase.purchaseId, amount: 250, reason: 'crash test' })

    expect(retry.status).toBe(200)
    expect(retry.body).toMatchObject({ refund: { request_id: prepared.request_id, amount: 250 }, amount_refunded: 250 })
    expect(refundsAtStripe(purchase.paymentId)).toHaveLength(1)
    expect(h.stripe.requestsTo('POST', '/v1/refunds').at(-1)).toMatchObject({ replayed: true })
  })

  it('after a lost answer: the same request is answered from what was recorded, without calling Stripe', async () => {
    const admin = await signInAdmin(h)
    const buyer = await h.signIn()
    const purchase = await purchasePaidAt(h, buyer.id)
    const body = { purchase_id: purchase.purchaseId, amount: 300, reason: 'lost answer' }
    const first = await h.post('admin/refund', admin, body)
    const calls = h.stripe.requestsTo('POST', '/v1/refunds').length

    const second = await h.post('admin/refund', admin, body)

    expect(second).toEqual(first)
    expect(h.stripe.requestsTo('POST', '/v1/refunds').length).toBe(calls)
    expect(refundsAtStripe(purchase.paymentId)).toHaveLength(1)
    expect(await purchaseOf(h, purchase.purchaseId)).toMatchObject({ amount_refunded: 300 })
  })

  it("honours the caller's Idempotency-Key: same key once, a new key a second refund, a reused key with another body 409 IDKEY", async () => {
    const admin = await signInAdmin(h)
    const buyer = await h.signIn()
    const purchase = await purchasePaidAt(h, buyer.id)
    const body = { purchase_id: purchase.purchaseId, amount: 100, reason: 'keyed' }
    const a = await h.post('admin/refund', admin, body, { headers: { 'idempotency-key': 'k-1' } })
    const again = await h.post('admin/refund', admin, body, { headers: { 'idempotency-key': 'k-1' } })
    const b = await h.post('admin/refund', admin, body, { headers: { 'idempotency-key': 'k-2' } })
    const clash = await h.post('admin/refund', admin, { ...body, amount: 200 }, { headers: { 'idempotency-key': 'k-1' } })

    expect([a.status, again.status, b.status]).toEqual([200, 200, 200])
    expect(again.body.refund.id).toBe(a.body.refund.id)
    expect(b.body.refund.id).not.toBe(a.body.refund.id)
    expect(clash).toMatchObject({ status: 409, body: { code: 'IDKEY' } })
    expect(refundsAtStripe(purchase.paymentId)).toHaveLength(2)
    expect(await purchaseOf(h, purchase.purchaseId)).toMatchObject({ amount_refunded: 200, status: 'partially_refunded' })
  })
})
