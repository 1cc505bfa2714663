import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { billingHarness, couponOf, type BillingHarness } from '../../helpers/billing.ts'
import { insertCoupon } from '../../sql/coupons/support.ts'

let h: BillingHarness
const codes: string[] = []
beforeAll(async () => {
  h = await billingHarness()
})
afterAll(async () => {
  if (codes.length > 0) {
    await h.sql`delete from tollgate_private.coupons where code in ${h.sql(codes)}`
  }
  await h.close()
})

const coupon = async (options: Parameters<typeof insertCoupon>[1]): Promise<string> => {
  const code = await insertCoupon(h.sql, options)
  codes.push(code)
  return code
}

const untilOf = async (code: string): Promise<number> => {
  const [row] = await h.sql<{ until: number }[]>`
    select floor(extract(epoch from valid_until))::int as until
    from tollgate_private.coupons where code = ${code}`
  return row?.until ?? 0
}

const couponPostsSince = (from: number) =>
  h.stripe.state.requests
    .slice(from)
    .filter((r) => r.method === 'POST' && r.path === '/v1/coupons')

describe('POST /billing/checkout with a coupon, at Stripe', () => {
  it("creates the Stripe coupon with the coupon's duration, months and redeem_by", async () => {
    const code = await coupon({
      percentOff: 25,
      duration: 'repeating',
      durationInMonths: 3,
      validUntil: '20 days',
    })
    const until = await untilOf(code)
    const from = h.stripe.state.requests.length

    const answer = await h.post('checkout', await h.signIn(), { plan_id: 'pro', coupon_code: code })

    expect(answer.status).toBe(200)
    const id = `tollgate_${code}_repeating3_25pct_until${until}`
    expect(couponPostsSince(from)).toEqual([
      expect.objectContaining({
        status: 200,
        params: expect.objectContaining({
          id,
          duration: 'repeating',
          duration_in_months: '3',
          percent_off: '25',
          redeem_by: String(until),
        }),
      }),
    ])
    expect(h.stripe.state.coupons.get(id)).toMatchObject({
      duration: 'repeating',
      duration_in_months: 3,
      redeem_by: until,
    })
    expect(h.stripe.state.checkouts.get(answer.body.session_id)?.discounts).toEqual([
      { coupon: id },
    ])
    expect(await couponOf(h.sql, code)).toMatchObject({ stripe_coupon_id: id })
  })

  it('makes a new Stripe coupon after the duration changed, never reusing the old one', async () => {
    const code = await coupon({ percentOff: 10, maxUses: 10 })
    await h.post('checkout', await h.signIn(), { plan_id: 'pro', coupon_code: code })
    const once = `tollgate_${code}_once_10pct`
    expect(await couponOf(h.sql, code)).toMatchObject({ stripe_coupon_id: once })

    await h.sql`update tollgate_private.coupons set duration = 'forever' where code = ${code}`
    const from = h.stripe.state.requests.length
    const answer = await h.post('checkout', await h.signIn(), { plan_id: 'pro', coupon_code: code })

    const forever = `tollgate_${code}_forever_10pct`
    expect(answer.status).toBe(200)
    expect(couponPostsSince(from).map((r) => r.params)).toEqual([
      expect.objectContaining({ id: forever, duration: 'forever' }),
    ])
    expect(h.stripe.state.checkouts.get(answer.body.session_id)?.discounts).toEqual([
      { coupon: forever },
    ])
    expect(h.stripe.state.coupons.get(once)).toMatchObject({ duration: 'once' })
    expect(await couponOf(h.sql, code)).toMatchObject({ stripe_coupon_id: forever })

    // Back to once: the first Stripe coupon has exactly these terms, and is found again.
    await h.sql`update tollgate_private.coupons set duration = 'once' where code = ${code}`
    const again = await h.post('checkout', await h.signIn(), { plan_id: 'pro', coupon_code: code })
    expect(h.stripe.state.checkouts.get(again.body.session_id)?.discounts).toEqual([
      { coupon: once },
    ])
  })

  it('refuses a coupon outside its window (422 CPEXP) before calling Stripe', async () => {
    const expired = await coupon({ validFrom: '-10 days', validUntil: '-1 day' })
    const early = await coupon({ validFrom: '1 day' })
    for (const code of [expired, early]) {
      const from = h.stripe.state.requests.length
      const answer = await h.post('checkout', await h.signIn(), {
        plan_id: 'pro',
        coupon_code: code,
      })
      expect(answer).toEqual({ status: 422, body: expect.objectContaining({ code: 'CPEXP' }) })
      expect(h.stripe.state.requests.length).toBe(from)
      expect(await couponOf(h.sql, code)).toMatchObject({
        times_redeemed: 0,
        stripe_coupon_id: null,
      })
    }
  })
})
