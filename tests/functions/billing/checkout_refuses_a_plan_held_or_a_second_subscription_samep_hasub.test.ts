import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  billingHarness,
  couponOf,
  createCoupon,
  footprintOf,
  subscribeWithStripe,
  type BillingHarness,
  type Caller,
} from '../../helpers/billing.ts'

let h: BillingHarness
let caller: Caller
let coupon: string
beforeAll(async () => {
  h = await billingHarness()
  coupon = await createCoupon(h.sql, { percentOff: 10, maxUses: 5 })
  caller = await h.signIn()
  await subscribeWithStripe(h, caller, 'verify', 'pro')
})
afterAll(() => h.close())

const attempts: [string, Record<string, string>, number, string][] = [
  ['pro with Stripe', { plan_id: 'pro' }, 409, 'SAMEP'],
  ['pro with Razorpay', { plan_id: 'pro', provider: 'razorpay' }, 409, 'SAMEP'],
  ['enterprise with Stripe', { plan_id: 'enterprise' }, 409, 'HASUB'],
  ['enterprise with Razorpay', { plan_id: 'enterprise', provider: 'razorpay' }, 409, 'HASUB'],
]

describe('POST /billing/checkout while on an active Stripe subscription to pro', () => {
  it.each(attempts)('refuses %s (%i %s) and reserves nothing', async (_, body, status, code) => {
    const before = await footprintOf(h.sql, caller.id)
    const from = h.stripe.state.requests.length
    const answer = await h.post('checkout', caller, { ...body, coupon_code: coupon })
    expect(answer).toEqual({ status, body: expect.objectContaining({ code }) })
    expect(h.stripe.state.requests.length).toBe(from)
    expect(h.razorpay.requests).toEqual([])
    expect(await couponOf(h.sql, coupon)).toEqual({ times_redeemed: 0, stripe_coupon_id: null })
    expect(await footprintOf(h.sql, caller.id)).toEqual(before)
    expect(before.subscriptions).toEqual([
      expect.objectContaining({ plan_id: 'pro', status: 'active' }),
    ])
  })
})
