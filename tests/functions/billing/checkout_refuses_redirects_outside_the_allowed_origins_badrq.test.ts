import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  billingHarness,
  couponOf,
  createCoupon,
  footprintOf,
  ORIGIN,
  type BillingHarness,
} from '../../helpers/billing.ts'

let h: BillingHarness
let coupon: string
beforeAll(async () => {
  h = await billingHarness()
  coupon = await createCoupon(h.sql, { percentOff: 10, maxUses: 5 })
})
afterAll(() => h.close())

const FOREIGN = [
  'https://evil.example.test/phish',
  'https://app.example.test.evil.test/',
  'http://app.example.test/',
  'https://app.example.test:8443/',
  'https://evil.example.test/?next=https://app.example.test/',
  'javascript:alert(1)',
]

describe('POST /billing/checkout with foreign redirect URLs', () => {
  it.each(FOREIGN)('refuses success_url %s (BADRQ) and reserves nothing', async (url) => {
    const caller = await h.signIn()
    const from = h.stripe.state.requests.length
    const answer = await h.post('checkout', caller, {
      plan_id: 'pro',
      coupon_code: coupon,
      success_url: url,
    })
    expect(answer).toEqual({ status: 400, body: expect.objectContaining({ code: 'BADRQ' }) })
    expect(h.stripe.state.requests.length).toBe(from)
    expect(await couponOf(h.sql, coupon)).toEqual({ times_redeemed: 0, stripe_coupon_id: null })
    expect(await footprintOf(h.sql, caller.id)).toEqual({
      subscriptions: [],
      invoices: [],
      customers: [],
      refs: [],
      redemptions: [],
    })
  })

  it.each(FOREIGN)('refuses cancel_url %s (BADRQ) and reserves nothing', async (url) => {
    const caller = await h.signIn()
    const from = h.stripe.state.requests.length
    const answer = await h.post('checkout', caller, {
      plan_id: 'pro',
      coupon_code: coupon,
      success_url: `${ORIGIN}/ok`,
      cancel_url: url,
    })
    expect(answer).toEqual({ status: 400, body: expect.objectContaining({ code: 'BADRQ' }) })
    expect(h.stripe.state.requests.length).toBe(from)
    expect(await couponOf(h.sql, coupon)).toEqual({ times_redeemed: 0, stripe_coupon_id: null })
    expect((await footprintOf(h.sql, caller.id)).redemptions).toEqual([])
  })

  it('refuses every URL (BADRQ) when TOLLGATE_REDIRECT_ORIGINS lists other origins', async () => {
    const caller = await h.signIn()
    const answer = await h.post(
      'checkout',
      caller,
      { plan_id: 'pro', success_url: `${ORIGIN}/ok` },
      { env: { TOLLGATE_REDIRECT_ORIGINS: 'https://other.example.test' } },
    )
    expect(answer).toEqual({ status: 400, body: expect.objectContaining({ code: 'BADRQ' }) })
    expect((await footprintOf(h.sql, caller.id)).refs).toEqual([])
  })
})
