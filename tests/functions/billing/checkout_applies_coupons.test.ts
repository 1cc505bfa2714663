import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  billingHarness,
  couponOf,
  footprintOf,
  redemptionsOf,
  type BillingHarness,
  unixNow,
} from '../../helpers/billing.ts'

// The only test file that takes WELCOME20 to Stripe: the seed leaves its Stripe coupon unset, and
// this file's fake Stripe is the one that gets it created.
let h: BillingHarness
beforeAll(async () => {
  h = await billingHarness()
})
afterAll(() => h.close())

describe('POST /billing/checkout with a coupon_code', () => {
  it('WELCOME20 with Stripe: the session gets the matching Stripe coupon, created once for all users', async () => {
    expect((await couponOf(h.sql, 'WELCOME20')).stripe_coupon_id).toBeNull()
    // The Stripe coupon names its terms: 20 % once, redeemable until WELCOME20's valid_until.
    const [{ until } = { until: 0 }] = await h.sql<{ until: number }[]>`
      select floor(extract(epoch from valid_until))::int as until
      from tollgate_private.coupons where code = 'WELCOME20'`
    expect(until).toBeGreaterThan(unixNow())
    const stripeId = `tollgate_WELCOME20_once_20pct_until${until}`
    const first = await h.signIn()
    const second = await h.signIn()
    const from = h.stripe.state.requests.length

    const answers = [
      await h.post('checkout', first, { plan_id: 'pro', coupon_code: 'WELCOME20' }),
      await h.post('checkout', second, { plan_id: 'enterprise', coupon_code: 'welcome20' }),
    ]

    expect(answers.map((a) => a.status)).toEqual([200, 200])
    const couponPosts = h.stripe.state.requests
      .slice(from)
      .filter((r) => r.method === 'POST' && r.path === '/v1/coupons')
    expect(couponPosts).toEqual([
      expect.objectContaining({
        status: 200,
        idempotencyKey: `tollgate:coupon:${stripeId}`,
        params: {
          id: stripeId,
          duration: 'once',
          percent_off: '20',
          redeem_by: String(until),
          metadata: { tollgate_coupon_code: 'WELCOME20' },
        },
      }),
    ])
    expect(h.stripe.state.coupons.get(stripeId)).toMatchObject({
      percent_off: 20,
      duration: 'once',
      redeem_by: until,
    })
    expect(await couponOf(h.sql, 'WELCOME20')).toMatchObject({ stripe_coupon_id: stripeId })
    const sessions = answers.map((a) => h.stripe.state.checkoutSessions.get(a.body.session_id))
    expect(answers.map((a) => h.stripe.state.checkouts.get(a.body.session_id)?.discounts)).toEqual([
      [{ coupon: stripeId }],
      [{ coupon: stripeId }],
    ])
    expect(sessions.map((s) => [s?.amount_subtotal, s?.amount_total])).toEqual([
      [2900, 2320],
      [9900, 7920],
    ])
    expect(await redemptionsOf(h.sql, first.id)).toEqual([
      { coupon_code: 'WELCOME20', plan_id: 'pro', status: 'reserved' },
    ])
    expect(await redemptionsOf(h.sql, second.id)).toEqual([
      { coupon_code: 'WELCOME20', plan_id: 'enterprise', status: 'reserved' },
    ])

    // Paid and verified: the use is redeemed.
    h.stripe.completeCheckout(answers[0]?.body.session_id)
    const verified = await h.post('verify-payment', first, {
      provider: 'stripe',
      session_id: answers[0]?.body.session_id,
    })
    expect(verified.status).toBe(200)
    expect(await redemptionsOf(h.sql, first.id)).toEqual([
      { coupon_code: 'WELCOME20', plan_id: 'pro', status: 'redeemed' },
    ])
  })

  it('WELCOME20 with Razorpay: the order is for the discounted amount (2900 -> 2320)', async () => {
    const caller = await h.signIn()
    const from = h.razorpay.requests.length

    const answer = await h.post('checkout', caller, {
      plan_id: 'pro',
      provider: 'razorpay',
      coupon_code: 'WELCOME20',
    })

    expect(answer).toEqual({
      status: 200,
      body: expect.objectContaining({ provider: 'razorpay', amount: 2320, currency: 'USD' }),
    })
    expect(
      h.razorpay.requests.slice(from).map((r) => (r.body as { amount: number }).amount),
    ).toEqual([2320])
    expect(await redemptionsOf(h.sql, caller.id)).toEqual([
      { coupon_code: 'WELCOME20', plan_id: 'pro', status: 'reserved' },
    ])

    // Paid: the use is redeemed, and the invoice shows what was paid.
    const paid = h.razorpay.pay(answer.body.order_id)
    expect((await h.post('verify-payment', caller, { provider: 'razorpay', ...paid })).status).toBe(
      200,
    )
    expect(await redemptionsOf(h.sql, caller.id)).toEqual([
      { coupon_code: 'WELCOME20', plan_id: 'pro', status: 'redeemed' },
    ])
    const [invoice] =
      await h.sql`select amount_paid from tollgate.invoices where user_id = ${caller.id}`
    expect(invoice).toEqual({ amount_paid: '2320' })

    // A coupon is used once per user (CPUSD), a renewal included (another plan is refused while
    // the paid period runs, HASUB).
    expect(
      await h.post('checkout', caller, {
        plan_id: 'pro',
        provider: 'razorpay',
        coupon_code: 'WELCOME20',
      }),
    ).toEqual({ status: 422, body: expect.objectContaining({ code: 'CPUSD' }) })
  })

  it.each([
    ['STUDENT50 on enterprise', 'enterprise', 'STUDENT50', 'CPPLN'],
    ['an unknown code', 'pro', 'NOSUCHCODE', 'CPINV'],
  ])(
    'refuses %s (422 %s) with either provider and reserves nothing',
    async (_, planId, code, error) => {
      const caller = await h.signIn()
      const stripeFrom = h.stripe.state.requests.length
      const razorpayFrom = h.razorpay.requests.length
      for (const provider of ['stripe', 'razorpay']) {
        const answer = await h.post('checkout', caller, {
          plan_id: planId,
          provider,
          coupon_code: code,
        })
        expect([provider, answer]).toEqual([
          provider,
          { status: 422, body: expect.objectContaining({ code: error }) },
        ])
      }
      expect(h.stripe.state.requests.length).toBe(stripeFrom)
      expect(h.razorpay.requests.length).toBe(razorpayFrom)
      expect(await footprintOf(h.sql, caller.id)).toEqual({
        subscriptions: [],
        invoices: [],
        customers: [],
        refs: [],
        redemptions: [],
      })
    },
  )
})
