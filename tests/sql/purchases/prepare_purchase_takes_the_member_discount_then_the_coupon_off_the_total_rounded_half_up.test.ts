import { describe, expect } from 'vitest'
import { withRollback } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'
import { coupon, preparePurchase, subscribe } from './support.ts'

// api_calls_pack: 1000 usd a unit; pro members 10 % off, enterprise 20 % (the seed). Three packs:
// 3000; a 15 % coupon (no plan restriction) is taken off what the member discount left.
const CASES = [
  { plan: 'free', member: 0, amount: 3000, couponOff: 450, withCoupon: 2550 },
  { plan: 'pro', member: 300, amount: 2700, couponOff: 405, withCoupon: 2295 },
  { plan: 'enterprise', member: 600, amount: 2400, couponOff: 360, withCoupon: 2040 },
]

describe('prepare_purchase prices three api_calls_pack', () => {
  it.for(CASES)('for a $plan user: $amount usd, $withCoupon with a 15 % coupon', async (c, { sql, user }) => {
    await withRollback(sql, async (tx) => {
      if (c.plan !== 'free') await subscribe(tx, user.id, c.plan)
      expect(await preparePurchase(tx, user.id, { quantity: 3 })).toMatchObject({
        kind: 'purchase',
        product: { id: 'api_calls_pack', metric: 'api_calls', credits: 50000 },
        quantity: 3,
        plan_id: c.plan,
        subtotal: 3000,
        member_discount: c.member,
        coupon_discount: 0,
        amount: c.amount,
        currency: 'usd',
        coupon: null,
      })
      const code = await coupon(tx, { percentOff: 15 })
      expect(await preparePurchase(tx, user.id, { quantity: 3, coupon: code })).toMatchObject({
        subtotal: 3000,
        member_discount: c.member,
        coupon_discount: c.couponOff,
        amount: c.withCoupon,
        coupon: { code, percent_off: 15 },
      })
    })
  })

  it('uses the plan the user is on now: a canceled pro subscription pays the free price', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      await subscribe(tx, user.id, 'pro')
      await tx`update tollgate.subscriptions set status = 'canceled', canceled_at = now(), ended_at = now()
        where user_id = ${user.id}`
      expect(await preparePurchase(tx, user.id, { quantity: 3 })).toMatchObject({
        plan_id: 'free',
        amount: 3000,
      })
    })
  })
})

describe('rounding', () => {
  it('rounds each discount of the whole total half up to a minor unit, never per unit', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      await tx`
        insert into tollgate.products (id, name, amount, currency, metric, credits)
        values ('odd_pack', 'Odd pack', 335, 'usd', 'api_calls', 10)`
      await tx`insert into tollgate.member_discounts (plan_id, product_id, percent_off) values ('pro', 'odd_pack', 10)`
      await subscribe(tx, user.id, 'pro')
      // 3 x 335 = 1005; 10 % = 100.5 -> 101 off (per unit it would be 3 x 33.5 -> 3 x 34 = 102).
      // Then 15 % of 904 = 135.6 -> 136 off: 768.
      const code = await coupon(tx, { percentOff: 15 })
      expect(await preparePurchase(tx, user.id, { productId: 'odd_pack', quantity: 3, coupon: code }))
        .toMatchObject({ subtotal: 1005, member_discount: 101, coupon_discount: 136, amount: 768 })
    })
  })

  it('takes an amount-off coupon off after the member discount, never below zero', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      await subscribe(tx, user.id, 'pro')
      const small = await coupon(tx, { amountOff: 500 })
      expect(await preparePurchase(tx, user.id, { quantity: 1, coupon: small })).toMatchObject({
        subtotal: 1000,
        member_discount: 100,
        coupon_discount: 500,
        amount: 400,
      })
      const large = await coupon(tx, { amountOff: 5000 })
      expect(await preparePurchase(tx, user.id, { quantity: 1, coupon: large })).toMatchObject({
        coupon_discount: 900,
        amount: 0,
      })
    })
  })
})
