import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { billingHarness, couponOf, createCoupon, type BillingHarness } from '../../helpers/billing.ts'
import { productCheckout, subscribeInternally } from '../../helpers/purchases.ts'

let h: BillingHarness
beforeAll(async () => {
  h = await billingHarness()
})
afterAll(() => h.close())

describe('POST /billing/checkout {product_id} with Stripe', () => {
  it('opens a payment-mode session for 3 packs at the pro price, buyer and product in its metadata', async () => {
    const caller = await h.signIn()
    await subscribeInternally(h.sql, caller.id, 'pro')
    const from = h.stripe.state.requests.length

    const answer = await productCheckout(h, caller, { quantity: 3 })

    expect(answer).toEqual({
      provider: 'stripe',
      session_id: expect.stringMatching(/^cs_test_/),
      url: expect.stringMatching(/^https:\/\/checkout\.stripe\.com\//),
    })
    const session = h.stripe.state.checkoutSessions.get(answer.session_id)
    const metadata = {
      user_id: caller.id,
      product_id: 'api_calls_pack',
      quantity: '3',
      tollgate_checkout_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    }
    expect(session).toMatchObject({
      mode: 'payment',
      status: 'open',
      client_reference_id: caller.id,
      amount_total: 2700,
      currency: 'usd',
      metadata,
    })
    expect(h.stripe.state.checkouts.get(answer.session_id)?.paymentIntentData).toEqual({ metadata })
    const creates = h.stripe.requestsTo('POST', '/v1/checkout/sessions').filter((r) => r.status === 200)
    expect(creates.at(-1)?.idempotencyKey).toEqual(expect.stringContaining(session?.metadata.tollgate_checkout_id))
    // A purchase is no subscription: no older session of the user was expired for it.
    expect(
      h.stripe.state.requests.slice(from).filter((r) => r.path.endsWith('/expire')),
    ).toEqual([])
    const [ref] = await h.sql`
      select details from tollgate_private.provider_refs
      where provider = 'stripe' and object_type = 'checkout_session' and provider_id = ${answer.session_id}`
    expect(ref?.details).toMatchObject({
      kind: 'purchase',
      product_id: 'api_calls_pack',
      quantity: 3,
      amount: 2700,
      currency: 'usd',
    })
  })

  it('takes a coupon without plan restriction off after the member discount and reserves its use', async () => {
    const caller = await h.signIn()
    await subscribeInternally(h.sql, caller.id, 'enterprise')
    const code = await createCoupon(h.sql, { percentOff: 15, planIds: null })

    const answer = await productCheckout(h, caller, { quantity: 3, coupon_code: code })

    // 3000 - 20 % = 2400; - 15 % = 2040.
    expect(h.stripe.state.checkoutSessions.get(answer.session_id)).toMatchObject({ amount_total: 2040 })
    expect(await couponOf(h.sql, code)).toMatchObject({ times_redeemed: 1, stripe_coupon_id: null })
  })

  it('gives the coupon use back when the session expires unpaid, or when Stripe fails (502 PROVR)', async () => {
    const caller = await h.signIn()
    const code = await createCoupon(h.sql, { percentOff: 15, planIds: null })
    const answer = await productCheckout(h, caller, { coupon_code: code })
    expect(await couponOf(h.sql, code)).toMatchObject({ times_redeemed: 1 })

    const from = h.stripe.events.length
    h.stripe.expireCheckout(answer.session_id)
    for (const delivered of await h.deliverStripe(h.stripe.events.slice(from))) {
      expect(delivered).toEqual({ status: 200, body: { received: true } })
    }
    expect(await couponOf(h.sql, code)).toMatchObject({ times_redeemed: 0 })

    h.stripe.fail('POST', '/v1/checkout/sessions', { status: 500, type: 'api_error' }, 3)
    expect(await h.post('checkout', caller, { product_id: 'api_calls_pack', coupon_code: code }))
      .toMatchObject({ status: 502, body: { code: 'PROVR' } })
    expect(await couponOf(h.sql, code)).toMatchObject({ times_redeemed: 0 })
  })

  it('refuses a coupon limited to plans (CPPLN) and opens nothing', async () => {
    const caller = await h.signIn()
    const from = h.stripe.state.requests.length
    const answer = await h.post('checkout', caller, { product_id: 'api_calls_pack', coupon_code: 'WELCOME20' })
    expect(answer).toMatchObject({ status: 422, body: { code: 'CPPLN' } })
    expect(h.stripe.state.requests.slice(from)).toEqual([])
  })
})

describe('POST /billing/checkout {product_id} with Razorpay', () => {
  it('creates an order for the total with user_id, product_id and quantity in its notes', async () => {
    const caller = await h.signIn()
    const from = h.razorpay.requests.length

    const answer = await productCheckout(h, caller, { provider: 'razorpay', quantity: 2 })

    expect(answer).toEqual({
      provider: 'razorpay',
      order_id: expect.stringMatching(/^order_/),
      amount: 2000,
      currency: 'USD',
      key_id: h.razorpay.keyId,
    })
    expect(h.razorpay.requests.slice(from)).toEqual([
      expect.objectContaining({
        path: '/v1/orders',
        body: {
          amount: 2000,
          currency: 'USD',
          receipt: expect.stringMatching(/^[0-9a-f-]{36}$/),
          notes: {
            user_id: caller.id,
            product_id: 'api_calls_pack',
            quantity: '2',
            tollgate_checkout_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
          },
        },
      }),
    ])
  })
})
