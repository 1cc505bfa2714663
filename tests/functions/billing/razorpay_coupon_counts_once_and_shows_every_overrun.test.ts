import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  billingHarness,
  createCoupon,
  type BillingHarness,
  type Caller,
} from '../../helpers/billing.ts'

let h: BillingHarness
beforeAll(async () => {
  h = await billingHarness()
})
afterAll(() => h.close())

const verify = (caller: Caller, paid: Record<string, string>) =>
  h.post('verify-payment', caller, { provider: 'razorpay', ...paid })

const countsOf = async (code: string) => {
  const [row] = await h.sql<{ times_redeemed: number; times_overrun: number }[]>`
    select times_redeemed, (to_jsonb(c) ->> 'times_overrun')::int as times_overrun
    from tollgate_private.coupons c where code = ${code}`
  return row
}

const statusesOf = (userId: string, code: string) =>
  h.sql<{ status: string }[]>`
    select status from tollgate_private.coupon_redemptions
    where user_id = ${userId} and coupon_code = ${code} order by status`

// Review M-1 (a): three Razorpay orders opened with a coupon before paying each carried the
// discount; paying all three renewed three times at the discount, one use counted, nothing shown.
describe('three Razorpay orders opened with one coupon, then all paid and verified', () => {
  it('counts one use and records the two other discounted payments as overruns (CPUSD after)', async () => {
    const caller = await h.signIn()
    const code = await createCoupon(h.sql, { percentOff: 20, maxUses: 100 })
    const orders: string[] = []
    for (let i = 0; i < 3; i += 1) {
      const answer = await h.post('checkout', caller, {
        plan_id: 'pro',
        provider: 'razorpay',
        coupon_code: code,
      })
      expect(answer.body).toMatchObject({ amount: 2320 })
      orders.push(String(answer.body.order_id))
    }
    for (const order of orders) {
      expect((await verify(caller, h.razorpay.pay(order))).status).toBe(200)
    }

    expect(await countsOf(code)).toEqual({ times_redeemed: 1, times_overrun: 2 })
    expect(await statusesOf(caller.id, code)).toEqual([
      { status: 'overrun' },
      { status: 'overrun' },
      { status: 'redeemed' },
    ])
    const again = await h.post('checkout', caller, {
      plan_id: 'pro',
      provider: 'razorpay',
      coupon_code: code,
    })
    expect(again).toEqual({ status: 422, body: expect.objectContaining({ code: 'CPUSD' }) })
  })
})
