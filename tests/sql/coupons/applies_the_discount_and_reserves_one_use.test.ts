import { describe, expect } from 'vitest'
import { withRollback } from '../../helpers/db.ts'
import { couponOf, it, pinCoupon, prepare, redemptionsOf } from './support.ts'

describe('prepare_checkout with a coupon code', () => {
  it('takes 20 % off pro with WELCOME20 (2900 -> 2320) and reserves one use for this checkout', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const before = await pinCoupon(tx, 'WELCOME20')

      const prepared = await prepare(tx, user.id, 'WELCOME20')

      expect(prepared).toMatchObject({
        kind: 'new',
        amount: 2320,
        currency: 'usd',
        coupon: {
          code: 'WELCOME20',
          percent_off: 20,
          amount_off: null,
          currency: null,
          redemption_id: expect.any(String),
        },
      })
      expect(await couponOf(tx, 'WELCOME20')).toEqual({
        ...before,
        times_redeemed: before.times_redeemed + 1,
      })
      expect(await redemptionsOf(tx, 'WELCOME20', user.id)).toEqual([
        {
          id: prepared.coupon?.redemption_id,
          coupon_code: 'WELCOME20',
          user_id: user.id,
          plan_id: 'pro',
          provider: 'razorpay',
          checkout_ref: prepared.checkout_id,
          status: 'reserved',
        },
      ])
    })
  })

  it('takes 20 % off enterprise too (9900 -> 7920), for Stripe checkouts as well', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      await pinCoupon(tx, 'WELCOME20')
      const prepared = await prepare(tx, user.id, 'WELCOME20', {
        planId: 'enterprise',
        provider: 'stripe',
      })
      expect(prepared).toMatchObject({ amount: 7920, coupon: { code: 'WELCOME20' } })
      expect(await redemptionsOf(tx, 'WELCOME20', user.id)).toMatchObject([
        { plan_id: 'enterprise', provider: 'stripe', status: 'reserved' },
      ])
    })
  })

  it('reads the code case- and space-insensitively', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      await pinCoupon(tx, 'WELCOME20')
      expect(await prepare(tx, user.id, '  welcome20 ')).toMatchObject({
        amount: 2320,
        coupon: { code: 'WELCOME20' },
      })
    })
  })

  it('takes a fixed amount off in the plan currency (500 off 2900 -> 2400)', async ({
    sql,
    user,
    coupons,
  }) => {
    const code = await coupons.create({ amountOff: 500, currency: 'usd' })
    await withRollback(sql, async (tx) => {
      expect(await prepare(tx, user.id, code)).toMatchObject({
        amount: 2400,
        coupon: { code, percent_off: null, amount_off: 500, currency: 'usd' },
      })
      expect(await couponOf(tx, code)).toMatchObject({ times_redeemed: 1 })
    })
  })

  it('charges without a coupon the full price and reserves nothing', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      expect(await prepare(tx, user.id, null)).toMatchObject({ amount: 2900, coupon: null })
      const [row] = await tx<{ n: number }[]>`
        select count(*)::int as n from tollgate_private.coupon_redemptions
        where user_id = ${user.id}::uuid`
      expect(row?.n).toBe(0)
    })
  })
})
