import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  billingHarness,
  couponOf,
  createCoupon,
  footprintOf,
  paidRazorpayCheckout,
  type BillingHarness,
} from '../../helpers/billing.ts'

let h: BillingHarness
let coupon: string
beforeAll(async () => {
  h = await billingHarness()
  coupon = await createCoupon(h.sql, { percentOff: 10, maxUses: 5 })
})
afterAll(() => h.close())

const nothing = { subscriptions: [], invoices: [], customers: [], refs: [] }

// Nothing held: no use of the coupon reserved or redeemed (a reservation given back is fine).
const heldNothing = async (userId: string) => {
  const { redemptions, ...rest } = await footprintOf(h.sql, userId)
  expect(rest).toEqual(nothing)
  expect(redemptions.filter((r) => r.status !== 'released')).toEqual([])
}

describe('billing without a provider configured', () => {
  it('refuses a Stripe checkout without STRIPE_SECRET_KEY (NOCFG) and reserves nothing', async () => {
    const caller = await h.signIn()
    const from = h.stripe.state.requests.length
    for (const key of [undefined, '']) {
      const answer = await h.post(
        'checkout',
        caller,
        { plan_id: 'pro', coupon_code: coupon },
        { env: { STRIPE_SECRET_KEY: key } },
      )
      expect(answer).toEqual({
        status: 503,
        body: expect.objectContaining({ code: 'NOCFG', details: { missing: 'STRIPE_SECRET_KEY' } }),
      })
    }
    expect(h.stripe.state.requests.length).toBe(from)
    expect(await couponOf(h.sql, coupon)).toEqual({ times_redeemed: 0, stripe_coupon_id: null })
    await heldNothing(caller.id)
  })

  it.each(['RAZORPAY_KEY_ID', 'RAZORPAY_KEY_SECRET'])(
    'refuses a Razorpay checkout without %s (NOCFG) and reserves nothing',
    async (name) => {
      const caller = await h.signIn()
      const answer = await h.post(
        'checkout',
        caller,
        { plan_id: 'pro', provider: 'razorpay', coupon_code: coupon },
        { env: { [name]: undefined } },
      )
      expect(answer).toEqual({
        status: 503,
        body: expect.objectContaining({ code: 'NOCFG', details: { missing: name } }),
      })
      expect(h.razorpay.requests).toEqual([])
      expect(await couponOf(h.sql, coupon)).toEqual({ times_redeemed: 0, stripe_coupon_id: null })
      await heldNothing(caller.id)
    },
  )

  it('refuses a Razorpay verify-payment without RAZORPAY_KEY_SECRET (NOCFG), never another secret', async () => {
    const caller = await h.signIn()
    const paid = await paidRazorpayCheckout(h, caller)
    const before = await footprintOf(h.sql, caller.id)
    const answer = await h.post(
      'verify-payment',
      caller,
      { provider: 'razorpay', ...paid },
      { env: { RAZORPAY_KEY_SECRET: undefined } },
    )
    expect(answer).toEqual({
      status: 503,
      body: expect.objectContaining({ code: 'NOCFG', details: { missing: 'RAZORPAY_KEY_SECRET' } }),
    })
    expect(await footprintOf(h.sql, caller.id)).toEqual(before)
    expect(before.subscriptions).toEqual([])
  })

  it('refuses a Stripe verify-payment, change-plan and portal without STRIPE_SECRET_KEY (NOCFG)', async () => {
    const caller = await h.signIn()
    const bodies: [string, unknown][] = [
      ['verify-payment', { provider: 'stripe', session_id: 'cs_test_a1b2c3' }],
      ['change-plan', { plan_id: 'enterprise' }],
      ['portal', {}],
    ]
    for (const [route, body] of bodies) {
      const answer = await h.post(route, caller, body, { env: { STRIPE_SECRET_KEY: undefined } })
      expect([route, answer]).toEqual([
        route,
        { status: 503, body: expect.objectContaining({ code: 'NOCFG' }) },
      ])
    }
  })
})
