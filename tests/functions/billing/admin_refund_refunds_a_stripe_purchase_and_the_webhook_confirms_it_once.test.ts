import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { billingHarness, type BillingHarness } from '../../helpers/billing.ts'
import { purchaseOf, purchasePaidAt, signInAdmin } from './admin-refund-support.ts'

let h: BillingHarness
beforeAll(async () => {
  h = await billingHarness()
})
afterAll(() => h.close())

describe('POST /billing/admin/refund (Stripe)', () => {
  it('refunds part of a purchase at Stripe with an Idempotency-Key, audited, and the webhook counts it once', async () => {
    const admin = await signInAdmin(h)
    const buyer = await h.signIn()
    const purchase = await purchasePaidAt(h, buyer.id)
    const from = h.stripe.events.length

    const answer = await h.post('admin/refund', admin, {
      purchase_id: purchase.purchaseId,
      amount: 400,
      reason: 'asked by support ticket 42',
    })

    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({
      refund: {
        id: expect.stringMatching(/^re_/),
        provider: 'stripe',
        status: 'succeeded',
        amount: 400,
        currency: 'usd',
        purchase_id: purchase.purchaseId,
        reason: 'asked by support ticket 42',
      },
      amount_refunded: 400,
      status: 'partially_refunded',
    })
    const [post] = h.stripe.requestsTo('POST', '/v1/refunds')
    expect(post).toMatchObject({
      params: { payment_intent: purchase.paymentId, amount: '400' },
      idempotencyKey: expect.stringMatching(/^tollgate-admin-refund:/),
    })
    const [audit] = await h.sql`
      select actor_user_id, actor_role, reason, new_values from tollgate_private.audit_log
      where record_id = ${purchase.purchaseId} and actor_role = 'admin'`
    expect(audit).toMatchObject({
      actor_user_id: admin.id,
      reason: 'asked by support ticket 42',
      new_values: { refund_amount: 400, provider: 'stripe' },
    })

    // Stripe then sends refund.created and charge.refunded: confirmed, not counted again.
    const events = h.stripe.events.slice(from)
    expect(events.map((e) => e.type)).toEqual(['refund.created', 'charge.refunded'])
    const delivered = await h.deliverStripe([...events, ...events])
    expect(delivered.map((d) => d.status)).toEqual([200, 200, 200, 200])
    expect(await purchaseOf(h, purchase.purchaseId)).toEqual({
      status: 'partially_refunded', amount_refunded: 400, remaining: 50000,
    })
    const [{ n }] = await h.sql`
      select count(*)::int as n from tollgate.notifications where user_id = ${buyer.id} and kind = 'payment_refunded'`
    expect(n).toBe(1)
  })

  it('without an amount refunds all that is left and revokes the unused credits', async () => {
    const admin = await signInAdmin(h)
    const buyer = await h.signIn()
    const purchase = await purchasePaidAt(h, buyer.id)
    await h.sql`update tollgate.credit_balances set remaining = 20000 where purchase_id = ${purchase.purchaseId}`
    expect((await h.post('admin/refund', admin, { purchase_id: purchase.purchaseId, amount: 300, reason: 'part' })).status).toBe(200)

    const answer = await h.post('admin/refund', admin, { purchase_id: purchase.purchaseId, reason: 'the rest' })

    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({ refund: { amount: 700 }, amount_refunded: 1000, status: 'refunded' })
    expect(await purchaseOf(h, purchase.purchaseId)).toEqual({ status: 'refunded', amount_refunded: 1000, remaining: 0 })
  })

  it('refunds a Stripe invoice through the payment intent that paid it', async () => {
    const admin = await signInAdmin(h)
    const buyer = await h.signIn()
    const payment = h.stripe.addPayment({ amount: 2900 })
    const [invoice] = await h.sql<{ id: string }[]>`
      insert into tollgate.invoices (user_id, provider, status, currency, amount_due, amount_paid, paid_at)
      values (${buyer.id}, 'stripe', 'paid', 'usd', 2900, 2900, now()) returning id`
    await h.sql`select tollgate_private.link_stripe_invoice_payment(${payment.paymentIntent}, ${invoice!.id})`

    const answer = await h.post('admin/refund', admin, { invoice_id: invoice!.id, amount: 900, reason: 'goodwill' })

    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({ refund: { amount: 900, invoice_id: invoice!.id }, amount_refunded: 900 })
    const [row] = await h.sql`select amount_refunded::int as n from tollgate.invoices where id = ${invoice!.id}`
    expect(row!.n).toBe(900)
  })
})
