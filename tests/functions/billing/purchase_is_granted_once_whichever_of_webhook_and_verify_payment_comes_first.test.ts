import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { billingHarness, type BillingHarness, type Caller } from '../../helpers/billing.ts'
import {
  paidRazorpayPurchase,
  paidStripePurchase,
  purchaseStateOf,
} from '../../helpers/purchases.ts'

let h: BillingHarness
beforeAll(async () => {
  h = await billingHarness()
})
afterAll(() => h.close())

const verifyStripe = (caller: Caller, sessionId: string) =>
  h.post('verify-payment', caller, { provider: 'stripe', session_id: sessionId })

const verifyRazorpay = (caller: Caller, paid: Record<string, string>) =>
  h.post('verify-payment', caller, { provider: 'razorpay', ...paid })

const received = { status: 200, body: { received: true } }

// Exactly one purchase of 2 packs, one grant of 100,000 api_calls credits, one notification.
const expectOnce = async (userId: string, provider: string) => {
  const state = await purchaseStateOf(h.sql, userId)
  expect(state.purchases).toEqual([
    expect.objectContaining({
      product_id: 'api_calls_pack',
      quantity: 2,
      provider,
      status: 'paid',
      currency: 'usd',
      amount_paid: '2000',
    }),
  ])
  const id = state.purchases[0]?.id
  expect(state.credits).toEqual([
    { metric: 'api_calls', granted: '100000', remaining: '100000', source: 'purchase', purchase_id: id },
  ])
  expect(state.notifications).toEqual([{ kind: 'purchase_succeeded', purchase_id: id }])
  return state
}

// Any order of the events, every one of them twice.
const shuffledTwice = <T>(items: T[]): T[] =>
  [...items, ...items]
    .map((item) => ({ item, key: Math.random() }))
    .sort((a, b) => a.key - b.key)
    .map(({ item }) => item)

describe('a Stripe product checkout paid', () => {
  it('verify-payment first answers {purchase}; the events after (each twice) add nothing', async () => {
    const caller = await h.signIn()
    const paid = await paidStripePurchase(h, caller, { quantity: 2 })

    const answer = await verifyStripe(caller, paid.sessionId)

    expect(answer).toEqual({
      status: 200,
      body: {
        purchase: expect.objectContaining({
          user_id: caller.id,
          product_id: 'api_calls_pack',
          quantity: 2,
          status: 'paid',
          amount_paid: 2000,
          provider: 'stripe',
        }),
      },
    })
    const state = await expectOnce(caller.id, 'stripe')
    expect(answer.body.purchase.id).toBe(state.purchases[0]?.id)
    expect(await h.deliverStripe([...paid.events, ...paid.events])).toEqual(
      paid.events.flatMap(() => [received, received]),
    )
    expect(await purchaseStateOf(h.sql, caller.id)).toEqual(state)
    // The PaymentIntent is linked to the purchase for refunds and disputes.
    const intent = h.stripe.state.checkoutSessions.get(paid.sessionId)?.payment_intent
    const [ref] = await h.sql`
      select local_id, details from tollgate_private.provider_refs
      where provider = 'stripe' and object_type = 'payment_intent' and provider_id = ${intent}`
    expect(ref).toEqual({ local_id: state.purchases[0]?.id, details: { kind: 'purchase', purchase_id: state.purchases[0]?.id } })
  })

  it('the webhook first (events shuffled, each twice): verify-payment after answers the same purchase', async () => {
    const caller = await h.signIn()
    const paid = await paidStripePurchase(h, caller, { quantity: 2 })

    for (const answer of await h.deliverStripe(shuffledTwice(paid.events))) expect(answer).toEqual(received)
    const state = await expectOnce(caller.id, 'stripe')

    const answer = await verifyStripe(caller, paid.sessionId)
    expect(answer).toMatchObject({ status: 200, body: { purchase: { id: state.purchases[0]?.id } } })
    expect(await purchaseStateOf(h.sql, caller.id)).toEqual(state)
  })

  it('an unpaid completion (async method) grants nothing until async_payment_succeeded (verify: NOTPD)', async () => {
    const caller = await h.signIn()
    const paid = await paidStripePurchase(h, caller, { quantity: 2 }, { paymentStatus: 'unpaid' })

    for (const answer of await h.deliverStripe(paid.events)) expect(answer).toEqual(received)
    expect(await verifyStripe(caller, paid.sessionId)).toMatchObject({ status: 409, body: { code: 'NOTPD' } })
    expect(await purchaseStateOf(h.sql, caller.id)).toEqual({ purchases: [], credits: [], notifications: [] })

    const from = h.stripe.events.length
    h.stripe.succeedAsyncPurchase(paid.sessionId)
    const later = h.stripe.events.slice(from)
    expect(later.map((event) => event.type)).toContain('checkout.session.async_payment_succeeded')
    for (const answer of await h.deliverStripe([...later, ...later])) expect(answer).toEqual(received)
    await expectOnce(caller.id, 'stripe')
  })
})

describe('a Razorpay product order paid', () => {
  it('verify-payment first answers {purchase}; payment.captured and order.paid after (each twice) add nothing', async () => {
    const caller = await h.signIn()
    const paid = await paidRazorpayPurchase(h, caller, { quantity: 2 })

    const answer = await verifyRazorpay(caller, paid)

    expect(answer).toMatchObject({
      status: 200,
      body: { purchase: { user_id: caller.id, quantity: 2, provider: 'razorpay', amount_paid: 2000 } },
    })
    expect(answer.body).not.toHaveProperty('subscription')
    const state = await expectOnce(caller.id, 'razorpay')
    const captured = h.razorpay.webhook('payment.captured', { orderId: paid.razorpay_order_id })
    const orderPaid = h.razorpay.webhook('order.paid', { orderId: paid.razorpay_order_id })
    for (const hook of [orderPaid, captured, captured, orderPaid]) {
      expect(await h.deliverRazorpay(hook)).toEqual(received)
    }
    expect(await purchaseStateOf(h.sql, caller.id)).toEqual(state)
    const [ref] = await h.sql`
      select local_id, parent_id, details from tollgate_private.provider_refs
      where provider = 'razorpay' and object_type = 'payment' and provider_id = ${paid.razorpay_payment_id}`
    expect(ref).toEqual({
      local_id: state.purchases[0]?.id,
      parent_id: paid.razorpay_order_id,
      details: { kind: 'purchase', purchase_id: state.purchases[0]?.id, order_id: paid.razorpay_order_id },
    })
    // A product order is no plan: the user is still on free.
    expect(await h.sql`select id from tollgate.subscriptions where user_id = ${caller.id}`).toEqual([])
  })

  it('the webhooks first: verify-payment after answers the same purchase', async () => {
    const caller = await h.signIn()
    const paid = await paidRazorpayPurchase(h, caller, { quantity: 2 })
    const captured = h.razorpay.webhook('payment.captured', { orderId: paid.razorpay_order_id })
    const orderPaid = h.razorpay.webhook('order.paid', { orderId: paid.razorpay_order_id })
    for (const hook of [captured, orderPaid, orderPaid]) expect(await h.deliverRazorpay(hook)).toEqual(received)
    const state = await expectOnce(caller.id, 'razorpay')

    const answer = await verifyRazorpay(caller, paid)
    expect(answer).toMatchObject({ status: 200, body: { purchase: { id: state.purchases[0]?.id } } })
    expect(await purchaseStateOf(h.sql, caller.id)).toEqual(state)
  })
})

describe('verify-payment and the webhook at the same time', () => {
  it('Stripe: one purchase and one grant, five times over', async () => {
    for (let round = 0; round < 5; round++) {
      const caller = await h.signIn()
      const paid = await paidStripePurchase(h, caller, { quantity: 2 })
      const [verified, delivered] = await Promise.all([
        verifyStripe(caller, paid.sessionId),
        h.deliverStripe(paid.events),
      ])
      expect(verified.status).toBe(200)
      for (const answer of delivered) expect(answer).toEqual(received)
      await expectOnce(caller.id, 'stripe')
    }
  })

  it('Razorpay: one purchase and one grant, five times over', async () => {
    for (let round = 0; round < 5; round++) {
      const caller = await h.signIn()
      const paid = await paidRazorpayPurchase(h, caller, { quantity: 2 })
      const hook = h.razorpay.webhook('payment.captured', { orderId: paid.razorpay_order_id })
      const [verified, delivered] = await Promise.all([verifyRazorpay(caller, paid), h.deliverRazorpay(hook)])
      expect(verified.status).toBe(200)
      expect(delivered).toEqual(received)
      await expectOnce(caller.id, 'razorpay')
    }
  })
})
