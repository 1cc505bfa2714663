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

describe('concurrent checkouts with a coupon of 3 uses', () => {
  it('10 users at once through the app: 3 sessions, 7 refused (CPMAX), times_redeemed 3', async () => {
    const code = await createCoupon(h.sql, { percentOff: 25, maxUses: 3, planIds: ['pro'] })
    const callers = await Promise.all(Array.from({ length: 10 }, () => h.signIn()))
    const from = h.stripe.state.requests.length

    const answers = await Promise.all(
      callers.map((caller) => h.post('checkout', caller, { plan_id: 'pro', coupon_code: code })),
    )

    const sold = answers.filter((a) => a.status === 200)
    const refused = answers.filter((a) => a.status !== 200)
    expect(sold).toHaveLength(3)
    expect(refused).toEqual(
      Array.from({ length: 7 }, () => ({
        status: 422,
        body: expect.objectContaining({ code: 'CPMAX' }),
      })),
    )
    const sessions = h.stripe.state.requests
      .slice(from)
      .filter((r) => r.method === 'POST' && r.path === '/v1/checkout/sessions' && r.status === 200)
    expect(new Set(sessions.map((r) => r.idempotencyKey)).size).toBe(3)
    expect(sold.map((a) => h.stripe.state.checkouts.get(a.body.session_id)?.discounts)).toEqual(
      Array.from({ length: 3 }, () => [{ coupon: `tollgate_${code}_once_25pct` }]),
    )
    expect(await couponOf(h.sql, code)).toEqual({
      times_redeemed: 3,
      stripe_coupon_id: `tollgate_${code}_once_25pct`,
    })
    const perUser = await Promise.all(callers.map((caller) => redemptionsOf(h.sql, caller.id)))
    expect(perUser.filter((r) => r.length > 0)).toEqual(
      Array.from({ length: 3 }, () => [{ coupon_code: code, plan_id: 'pro', status: 'reserved' }]),
    )

    // One of the three sessions expires unpaid: its use goes back, and the next user gets it.
    const expired = h.stripe.expireCheckout(sold[0]?.body.session_id)
    const events = h.stripe.events.filter(
      (e) => e.type === 'checkout.session.expired' && e.data.object.id === expired.id,
    )
    expect(await h.deliverStripe(events)).toEqual([{ status: 200, body: { received: true } }])
    expect(await couponOf(h.sql, code)).toMatchObject({ times_redeemed: 2 })
    const late = await h.signIn()
    expect((await h.post('checkout', late, { plan_id: 'pro', coupon_code: code })).status).toBe(200)
    expect(await couponOf(h.sql, code)).toMatchObject({ times_redeemed: 3 })
  })
})
