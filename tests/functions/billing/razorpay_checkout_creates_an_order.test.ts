import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  billingHarness,
  couponOf,
  createCoupon,
  footprintOf,
  type BillingHarness,
} from '../../helpers/billing.ts'

let h: BillingHarness
beforeAll(async () => {
  h = await billingHarness()
})
afterAll(() => h.close())

describe('POST /billing/checkout with Razorpay', () => {
  it('creates an order for the plan amount with basic auth and the user in its notes', async () => {
    const caller = await h.signIn()
    const from = h.razorpay.requests.length
    const stripeFrom = h.stripe.state.requests.length

    const answer = await h.post('checkout', caller, { plan_id: 'pro', provider: 'razorpay' })

    expect(answer).toEqual({
      status: 200,
      body: {
        provider: 'razorpay',
        order_id: expect.stringMatching(/^order_[A-Za-z0-9]{14}$/),
        amount: 2900,
        currency: 'USD',
        key_id: h.razorpay.keyId,
      },
    })
    const requests = h.razorpay.requests.slice(from)
    const basic = `Basic ${Buffer.from(`${h.razorpay.keyId}:${h.razorpay.keySecret}`).toString('base64')}`
    expect(requests).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/v1/orders',
        status: 200,
        headers: expect.objectContaining({ authorization: basic }),
        body: {
          amount: 2900,
          currency: 'USD',
          receipt: expect.stringMatching(/^[0-9a-f-]{36}$/),
          notes: {
            user_id: caller.id,
            plan_id: 'pro',
            tollgate_checkout_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
          },
        },
      }),
    ])
    const sent = requests[0]?.body as { receipt: string; notes: { tollgate_checkout_id: string } }
    expect(sent.notes.tollgate_checkout_id).toBe(sent.receipt)
    expect(h.razorpay.orders.get(answer.body.order_id)).toMatchObject({
      amount: 2900,
      currency: 'USD',
      status: 'created',
      notes: { user_id: caller.id, plan_id: 'pro' },
    })
    expect(await footprintOf(h.sql, caller.id)).toEqual({
      subscriptions: [],
      invoices: [],
      customers: [],
      refs: [{ provider: 'razorpay', object_type: 'order', provider_id: answer.body.order_id }],
      redemptions: [],
    })
    expect(h.stripe.state.requests.length).toBe(stripeFrom)
  })

  it('answers 502 PROVR when Razorpay refuses the order, and gives the coupon use back', async () => {
    const caller = await h.signIn()
    const code = await createCoupon(h.sql, { percentOff: 10, maxUses: 5 })
    h.razorpay.failNext(500)

    const answer = await h.post('checkout', caller, {
      plan_id: 'pro',
      provider: 'razorpay',
      coupon_code: code,
    })

    expect(answer).toEqual({
      status: 502,
      body: expect.objectContaining({
        code: 'PROVR',
        details: expect.objectContaining({ provider: 'razorpay', status: 500 }),
      }),
    })
    expect(await couponOf(h.sql, code)).toEqual({ times_redeemed: 0, stripe_coupon_id: null })
    const footprint = await footprintOf(h.sql, caller.id)
    expect(footprint.refs).toEqual([])
    expect(footprint.redemptions).toEqual([
      { coupon_code: code, plan_id: 'pro', status: 'released' },
    ])
  })
})
