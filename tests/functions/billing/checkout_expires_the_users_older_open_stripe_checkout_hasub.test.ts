import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  billingHarness,
  couponOf,
  createCoupon,
  redemptionsOf,
  type BillingHarness,
} from '../../helpers/billing.ts'

let h: BillingHarness
beforeAll(async () => {
  h = await billingHarness()
})
afterAll(() => h.close())

const expireCalls = (sessionId: string) =>
  h.stripe.requestsTo('POST', `/v1/checkout/sessions/${sessionId}/expire`)

// Review M-2: two checkouts opened before paying (pro and enterprise) could both be paid, and
// Stripe billed both. A new checkout now expires the user's older open sessions at Stripe.
describe('POST /billing/checkout with Stripe while an older checkout of the user is open', () => {
  it('expires the older session at Stripe, so only the newest can be paid', async () => {
    const caller = await h.signIn()
    const coupon = await createCoupon(h.sql, { percentOff: 20, maxUses: 5 })
    const older = await h.post('checkout', caller, { plan_id: 'pro', coupon_code: coupon })
    const newer = await h.post('checkout', caller, { plan_id: 'enterprise', coupon_code: coupon })
    expect([older.status, newer.status]).toEqual([200, 200])

    const olderId = String(older.body.session_id)
    expect(h.stripe.state.checkoutSessions.get(olderId)).toMatchObject({ status: 'expired' })
    expect(expireCalls(olderId)).toEqual([
      expect.objectContaining({ status: 200, idempotencyKey: `tollgate:expire:${olderId}` }),
    ])
    expect(() => h.stripe.completeCheckout(olderId)).toThrow(/expired/)
    expect(h.stripe.state.checkoutSessions.get(String(newer.body.session_id))).toMatchObject({
      status: 'open',
    })
    // One coupon use, held by the newest checkout.
    expect(await couponOf(h.sql, coupon)).toMatchObject({ times_redeemed: 1 })
    expect(await redemptionsOf(h.sql, caller.id)).toEqual([
      { coupon_code: coupon, plan_id: 'enterprise', status: 'reserved' },
    ])

    // A third checkout does not call Stripe again about the session already expired.
    const third = await h.post('checkout', caller, { plan_id: 'pro' })
    expect(third.status).toBe(200)
    expect(expireCalls(olderId)).toHaveLength(1)
    expect(expireCalls(String(newer.body.session_id))).toHaveLength(1)
  })

  it('leaves a session that expired by itself alone and goes on', async () => {
    const caller = await h.signIn()
    const older = await h.post('checkout', caller, { plan_id: 'pro' })
    h.stripe.expireCheckout(String(older.body.session_id))
    const newer = await h.post('checkout', caller, { plan_id: 'enterprise' })
    expect(newer.status).toBe(200)
    expect(expireCalls(String(older.body.session_id))).toEqual([
      expect.objectContaining({ status: 400 }),
    ])
  })

  it('refuses (409 HASUB) while an older checkout is paid but not applied yet, and gives the coupon use back', async () => {
    const caller = await h.signIn()
    const coupon = await createCoupon(h.sql, { percentOff: 20, maxUses: 5 })
    const older = await h.post('checkout', caller, { plan_id: 'pro' })
    h.stripe.completeCheckout(String(older.body.session_id))
    const sessionsBefore = h.stripe.state.checkoutSessions.size

    const newer = await h.post('checkout', caller, { plan_id: 'enterprise', coupon_code: coupon })

    expect(newer).toEqual({ status: 409, body: expect.objectContaining({ code: 'HASUB' }) })
    expect(h.stripe.state.checkoutSessions.size).toBe(sessionsBefore)
    expect(await couponOf(h.sql, coupon)).toMatchObject({ times_redeemed: 0 })
  })
})
