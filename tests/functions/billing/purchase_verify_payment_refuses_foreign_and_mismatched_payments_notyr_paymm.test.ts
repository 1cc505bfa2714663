import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { billingHarness, type BillingHarness } from '../../helpers/billing.ts'
import {
  paidRazorpayPurchase,
  paidStripePurchase,
  productCheckout,
  purchaseStateOf,
} from '../../helpers/purchases.ts'

let h: BillingHarness
beforeAll(async () => {
  h = await billingHarness()
})
afterAll(() => h.close())

const NOTHING = { purchases: [], credits: [], notifications: [] }
const received = { status: 200, body: { received: true } }

describe('verify-payment of a product checkout', () => {
  it("refuses someone else's paid Stripe session (403 NOTYR) and grants nobody anything", async () => {
    const owner = await h.signIn()
    const intruder = await h.signIn()
    const paid = await paidStripePurchase(h, owner)

    expect(await h.post('verify-payment', intruder, { provider: 'stripe', session_id: paid.sessionId }))
      .toMatchObject({ status: 403, body: { code: 'NOTYR' } })
    expect(await purchaseStateOf(h.sql, intruder.id)).toEqual(NOTHING)
    expect(await purchaseStateOf(h.sql, owner.id)).toEqual(NOTHING)
  })

  it("refuses someone else's paid Razorpay order (403 NOTYR)", async () => {
    const owner = await h.signIn()
    const intruder = await h.signIn()
    const paid = await paidRazorpayPurchase(h, owner)

    expect(await h.post('verify-payment', intruder, { provider: 'razorpay', ...paid }))
      .toMatchObject({ status: 403, body: { code: 'NOTYR' } })
    expect(await purchaseStateOf(h.sql, intruder.id)).toEqual(NOTHING)
    expect(await purchaseStateOf(h.sql, owner.id)).toEqual(NOTHING)
  })

  it('refuses an open session (409 NOTPD)', async () => {
    const caller = await h.signIn()
    const checkout = await productCheckout(h, caller)
    expect(await h.post('verify-payment', caller, { provider: 'stripe', session_id: checkout.session_id }))
      .toMatchObject({ status: 409, body: { code: 'NOTPD' } })
    expect(await purchaseStateOf(h.sql, caller.id)).toEqual(NOTHING)
  })
})

describe('a payment that differs from what the checkout recorded grants nothing', () => {
  it('Stripe: verify-payment answers 422 PAYMM; the webhook acknowledges it, records why and audits it', async () => {
    const caller = await h.signIn()
    const checkout = await productCheckout(h, caller, { quantity: 2 })
    // Stripe took another amount than Tollgate asked for (say, the session was edited at Stripe).
    const session = h.stripe.state.checkoutSessions.get(checkout.session_id)!
    session.amount_total = 1000
    const from = h.stripe.events.length
    h.stripe.completePaymentCheckout(checkout.session_id)
    const events = h.stripe.events.slice(from)

    expect(await h.post('verify-payment', caller, { provider: 'stripe', session_id: checkout.session_id }))
      .toMatchObject({ status: 422, body: { code: 'PAYMM' } })
    expect(await h.deliverStripe(events)).toEqual(events.map(() => received))
    expect(await purchaseStateOf(h.sql, caller.id)).toEqual(NOTHING)
    const [ledger] = await h.sql`
      select outcome, error from tollgate_private.webhook_events
      where provider = 'stripe' and type = 'checkout.session.completed'
        and payload #>> '{data,object,id}' = ${checkout.session_id}`
    expect(ledger).toEqual({ outcome: 'unlinked', error: 'paid 1000 usd, checkout ' + checkout.session_id + ' asked 2000 usd' })
    const audit = await h.sql`select table_name, reason from tollgate_private.audit_log where user_id = ${caller.id}`
    expect(audit).toEqual([{ table_name: 'purchases', reason: expect.stringContaining('payment mismatch') }])
  })

  it('Razorpay: a captured payment of another amount is acknowledged and grants nothing', async () => {
    const caller = await h.signIn()
    const checkout = await productCheckout(h, caller, { provider: 'razorpay', quantity: 2 })
    const hook = h.razorpay.webhook('payment.captured', { orderId: checkout.order_id, amount: 1500 })

    expect(await h.deliverRazorpay(hook)).toEqual(received)
    expect(await purchaseStateOf(h.sql, caller.id)).toEqual(NOTHING)
    const [ledger] = await h.sql`
      select outcome, error from tollgate_private.webhook_events
      where provider = 'razorpay' and event_id = ${hook.eventId}`
    expect(ledger).toEqual({
      outcome: 'unlinked',
      error: `paid 1500 usd, checkout ${checkout.order_id} asked 2000 usd`,
    })
  })
})
