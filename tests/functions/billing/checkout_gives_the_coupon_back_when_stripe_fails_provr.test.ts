import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  billingHarness,
  couponOf,
  createCoupon,
  redemptionsOf,
  refsOf,
  type BillingHarness,
} from '../../helpers/billing.ts'

let h: BillingHarness
beforeAll(async () => {
  h = await billingHarness()
})
afterAll(() => h.close())

describe('POST /billing/checkout when Stripe fails', () => {
  it('answers 502 PROVR when Stripe refuses the session, and gives the coupon use back', async () => {
    const caller = await h.signIn()
    const coupon = await createCoupon(h.sql, { percentOff: 10, maxUses: 5 })
    h.stripe.fail('POST', '/v1/checkout/sessions', { status: 400, message: 'No such price' })

    const answer = await h.post('checkout', caller, { plan_id: 'pro', coupon_code: coupon })

    expect(answer).toEqual({
      status: 502,
      body: expect.objectContaining({
        code: 'PROVR',
        details: expect.objectContaining({ provider: 'stripe', status: 400 }),
      }),
    })
    expect(await couponOf(h.sql, coupon)).toMatchObject({ times_redeemed: 0 })
    expect(await redemptionsOf(h.sql, caller.id)).toEqual([
      { coupon_code: coupon, plan_id: 'pro', status: 'released' },
    ])
    expect(
      (await refsOf(h.sql, caller.id)).filter((r) => r.object_type === 'checkout_session'),
    ).toEqual([])

    // The user tries again: the coupon is theirs to use once more, counted once.
    const again = await h.post('checkout', caller, { plan_id: 'pro', coupon_code: coupon })
    expect(again.status).toBe(200)
    expect(await couponOf(h.sql, coupon)).toMatchObject({ times_redeemed: 1 })
    expect(await redemptionsOf(h.sql, caller.id)).toEqual([
      { coupon_code: coupon, plan_id: 'pro', status: 'reserved' },
    ])
  })

  it('answers 502 PROVR after Stripe failed every retry, all sent with one Idempotency-Key', async () => {
    const caller = await h.signIn()
    const coupon = await createCoupon(h.sql, { percentOff: 10, maxUses: 5 })
    const from = h.stripe.state.requests.length
    // The SDK tries three times (maxNetworkRetries 2).
    h.stripe.fail('POST', '/v1/checkout/sessions', { status: 500 }, 3)

    const answer = await h.post('checkout', caller, { plan_id: 'pro', coupon_code: coupon })

    expect(answer).toEqual({
      status: 502,
      body: expect.objectContaining({
        code: 'PROVR',
        details: expect.objectContaining({ provider: 'stripe', status: 500 }),
      }),
    })
    const attempts = h.stripe.state.requests
      .slice(from)
      .filter((r) => r.path === '/v1/checkout/sessions')
    expect(attempts.map((r) => r.status)).toEqual([500, 500, 500])
    expect(new Set(attempts.map((r) => r.idempotencyKey)).size).toBe(1)
    expect(attempts[0]?.idempotencyKey).toMatch(/^tollgate:checkout:[0-9a-f-]{36}$/)
    expect(await couponOf(h.sql, coupon)).toMatchObject({ times_redeemed: 0 })
    expect(await redemptionsOf(h.sql, caller.id)).toEqual([
      { coupon_code: coupon, plan_id: 'pro', status: 'released' },
    ])
  })

  it('answers 502 PROVR when the customer cannot be created, and gives the coupon use back', async () => {
    const caller = await h.signIn()
    const coupon = await createCoupon(h.sql, { percentOff: 10, maxUses: 5 })
    h.stripe.fail('POST', '/v1/customers', {
      status: 402,
      type: 'card_error',
      code: 'card_declined',
    })

    const answer = await h.post('checkout', caller, { plan_id: 'pro', coupon_code: coupon })

    expect(answer).toEqual({
      status: 502,
      body: expect.objectContaining({
        code: 'PROVR',
        details: expect.objectContaining({ provider: 'stripe', code: 'card_declined' }),
      }),
    })
    expect(await couponOf(h.sql, coupon)).toEqual({ times_redeemed: 0, stripe_coupon_id: null })
    expect(await redemptionsOf(h.sql, caller.id)).toEqual([
      { coupon_code: coupon, plan_id: 'pro', status: 'released' },
    ])
  })
})
