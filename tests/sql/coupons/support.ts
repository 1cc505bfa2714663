import { randomBytes } from 'node:crypto'
import type { Queryable, Sql } from '../../helpers/db.ts'
import { it as base } from '../../helpers/fixtures.ts'

export { testUsers } from '../subscriptions/support.ts'

/** A coupon row as these tests read it. */
export type CouponRow = { code: string; times_redeemed: number; max_uses: number | null }

/** What a test coupon is made of; the code is unique per call. */
export type NewCoupon = {
  percentOff?: number | null
  amountOff?: number | null
  currency?: string | null
  planIds?: string[] | null
  maxUses?: number | null
  /** Intervals added to now(), e.g. '-2 days'. */
  validFrom?: string | null
  validUntil?: string | null
  active?: boolean
  /** Stripe's coupon duration (default once) and, for repeating, its months. */
  duration?: 'once' | 'repeating' | 'forever'
  durationInMonths?: number | null
}

/** A fresh coupon code: T + 12 upper-case hex digits. */
export const uniqueCode = (): string => `T${randomBytes(6).toString('hex').toUpperCase()}`

/** Inserts a coupon (committed when `q` is a pool) with a unique code; 10 % off pro by default. */
export const insertCoupon = async (q: Queryable, coupon: NewCoupon = {}): Promise<string> => {
  const code = uniqueCode()
  const percentOff = coupon.amountOff != null ? null : (coupon.percentOff ?? 10)
  const planIds = coupon.planIds === undefined ? ['pro'] : coupon.planIds
  await q`
    insert into tollgate_private.coupons (
      code, percent_off, amount_off, currency, plan_ids, max_uses, valid_from, valid_until, active,
      duration, duration_in_months)
    values (
      ${code}, ${percentOff}::int, ${coupon.amountOff ?? null}::bigint,
      ${coupon.currency ?? null}::text, ${planIds}::text[], ${coupon.maxUses ?? null}::int,
      now() + ${coupon.validFrom ?? null}::interval, now() + ${coupon.validUntil ?? null}::interval,
      ${coupon.active ?? true}, ${coupon.duration ?? 'once'}, ${coupon.durationInMonths ?? null}::int)`
  return code
}

/** Coupons made for one test file (committed), deleted again in afterAll with their redemptions. */
export const testCoupons = (sql: Sql) => {
  const codes: string[] = []
  return {
    create: async (coupon: NewCoupon = {}): Promise<string> => {
      const code = await insertCoupon(sql, coupon)
      codes.push(code)
      return code
    },
    drop: async (): Promise<void> => {
      if (codes.length > 0)
        await sql`delete from tollgate_private.coupons where code in ${sql(codes)}`
    },
  }
}

/** The shared fixtures plus `coupons`: the coupons a file makes, deleted after its last test. */
export const it = base.extend('coupons', { scope: 'file' }, async ({ sql }, { onCleanup }) => {
  const coupons = testCoupons(sql)
  onCleanup(() => coupons.drop())
  return coupons
})

/** What prepare_checkout answers for a paid plan. */
export type Prepared = {
  kind: string
  checkout_id: string
  amount: number
  currency: string
  coupon: {
    code: string
    percent_off: number | null
    amount_off: number | null
    currency: string | null
    stripe_coupon_id: string | null
    redemption_id: string
  } | null
}

/** prepare_checkout(user, plan, provider, coupon, now()). */
export const prepare = async (
  q: Queryable,
  userId: string,
  coupon: string | null,
  options: { planId?: string; provider?: 'stripe' | 'razorpay' } = {},
): Promise<Prepared> => {
  const [row] = await q<{ prepared: Prepared }[]>`
    select tollgate_private.prepare_checkout(
      ${userId}::uuid, ${options.planId ?? 'pro'}, ${options.provider ?? 'razorpay'},
      ${coupon}::text, now()) as prepared`
  if (!row) throw new Error('prepare_checkout returned nothing')
  return row.prepared
}

/** settle_coupon(checkout_ref, paid). */
export const settle = async (q: Queryable, checkoutId: string, paid: boolean): Promise<void> => {
  await q`select tollgate_private.settle_coupon(${checkoutId}, ${paid})`
}

/** A coupon's use count. */
export const couponOf = async (q: Queryable, code: string): Promise<CouponRow> => {
  const [row] = await q<CouponRow[]>`
    select code, times_redeemed, max_uses from tollgate_private.coupons where code = ${code}`
  if (!row) throw new Error(`no coupon ${code}`)
  return row
}

/**
 * Locks a coupon row until the transaction ends, so its count cannot move under a test that reads
 * it before and after (other test files check out with the seeded coupons at the same time).
 */
export const pinCoupon = async (q: Queryable, code: string): Promise<CouponRow> => {
  const [row] = await q<CouponRow[]>`
    select code, times_redeemed, max_uses from tollgate_private.coupons
    where code = ${code} for update`
  if (!row) throw new Error(`no coupon ${code}`)
  return row
}

/** A redemption row as these tests read it. */
export type RedemptionRow = {
  id: string
  coupon_code: string
  user_id: string
  plan_id: string
  provider: string
  checkout_ref: string | null
  status: string
}

/** The redemptions of a coupon by one user. */
export const redemptionsOf = async (
  q: Queryable,
  code: string,
  userId: string,
): Promise<RedemptionRow[]> =>
  q<RedemptionRow[]>`
    select id, coupon_code, user_id, plan_id, provider, checkout_ref, status
    from tollgate_private.coupon_redemptions
    where coupon_code = ${code} and user_id = ${userId}::uuid`

/** A coupon's use and overrun counts (the overrun count is 0 before it existed). */
export const countsOf = async (
  q: Queryable,
  code: string,
): Promise<{ times_redeemed: number; times_overrun: number }> => {
  const [row] = await q<{ times_redeemed: number; times_overrun: number }[]>`
    select times_redeemed, (to_jsonb(c) ->> 'times_overrun')::int as times_overrun
    from tollgate_private.coupons c where code = ${code}`
  if (!row) throw new Error(`no coupon ${code}`)
  return row
}

/** Every redemption row of a coupon by one user (overruns included), by status then checkout. */
export const statusesOf = async (
  q: Queryable,
  code: string,
  userId: string,
): Promise<{ status: string; checkout_ref: string | null }[]> =>
  q<{ status: string; checkout_ref: string | null }[]>`
    select status, checkout_ref from tollgate_private.coupon_redemptions
    where coupon_code = ${code} and user_id = ${userId}::uuid
    order by status, checkout_ref`

/** The audit rows written about a user's coupon overruns (reason starting coupon_overrun:). */
export const overrunAuditOf = async (
  q: Queryable,
  userId: string,
): Promise<{ table_name: string; new_values: { status: string; checkout_ref: string } }[]> =>
  q<{ table_name: string; new_values: { status: string; checkout_ref: string } }[]>`
    select table_name, new_values from tollgate_private.audit_log
    where user_id = ${userId}::uuid and reason like 'coupon_overrun:%'
    order by id`
