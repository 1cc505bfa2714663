import { describe, expect } from 'vitest'
import { stripeCouponParams } from '../../../packages/providers/stripe/src/billing.ts'
import { type Queryable, withRollback } from '../../helpers/db.ts'
import { it, type NewCoupon, prepare, type Prepared } from './support.ts'

const stripeCouponIdOf = async (q: Queryable, code: string): Promise<string | null> => {
  const [row] = await q<{ stripe_coupon_id: string | null }[]>`
    select stripe_coupon_id from tollgate_private.coupons where code = ${code}`
  return row?.stripe_coupon_id ?? null
}

const stripeIdOf = (prepared: Prepared): string => {
  if (!prepared.coupon) throw new Error('the checkout carries no coupon')
  return stripeCouponParams(prepared.coupon).id
}

const record = (q: Queryable, userId: string, checkoutId: string, code: string, id: string) =>
  q`select tollgate_private.record_checkout(${userId}::uuid, 'stripe', ${`cs_test_${checkoutId}`},
    ${checkoutId}::uuid, 'pro', 2610, 'usd',
    ${q.json({ coupon_code: code, stripe_coupon_id: id })})`

describe('the Stripe coupon a checkout records', () => {
  it('is kept when it names the terms the checkout was made with', async ({ sql, user, coupons }) => {
    const code = await coupons.create({ duration: 'repeating', durationInMonths: 2 })
    await withRollback(sql, async (tx) => {
      const prepared = await prepare(tx, user.id, code, { provider: 'stripe' })
      const id = stripeIdOf(prepared)
      expect(id).toBe(`tollgate_${code}_repeating2_10pct`)
      await record(tx, user.id, prepared.checkout_id, code, id)
      expect(await stripeCouponIdOf(tx, code)).toBe(id)
    })
  })

  it('is not kept when the duration changed while the checkout was being made', async ({
    sql,
    user,
    coupons,
  }) => {
    const code = await coupons.create()
    await withRollback(sql, async (tx) => {
      const prepared = await prepare(tx, user.id, code, { provider: 'stripe' })
      const stale = stripeIdOf(prepared)
      expect(stale).toBe(`tollgate_${code}_once_10pct`)
      await tx`update tollgate_private.coupons set duration = 'forever' where code = ${code}`
      await record(tx, user.id, prepared.checkout_id, code, stale)
      expect(await stripeCouponIdOf(tx, code)).toBeNull()
    })
  })

  it.for<[string, NewCoupon]>([
    ['percent, once', { percentOff: 15 }],
    ['amount, forever', { amountOff: 700, currency: 'eur', duration: 'forever' }],
    ['repeating, with an end', { duration: 'repeating', durationInMonths: 12, validUntil: '45 days' }],
  ])('is named alike by SQL and the billing function (%s)', async ([, terms], { sql, coupons }) => {
    const code = await coupons.create({ ...terms, planIds: null })
    await withRollback(sql, async (tx) => {
      const [row] = await tx<{ name: string; terms: Record<string, unknown> }[]>`
        select tollgate_private.stripe_coupon_name(c) as name, jsonb_build_object(
          'code', c.code, 'percent_off', c.percent_off, 'amount_off', c.amount_off,
          'currency', c.currency, 'stripe_coupon_id', c.stripe_coupon_id, 'duration', c.duration,
          'duration_in_months', c.duration_in_months, 'valid_until', c.valid_until) as terms
        from tollgate_private.coupons c where c.code = ${code}`
      const fromSql = row?.terms as Parameters<typeof stripeCouponParams>[0]
      expect(row?.name).toBe(stripeCouponParams(fromSql).id)
      expect(row?.name).toMatch(new RegExp(`^tollgate_${code}_`))
    })
  })
})
