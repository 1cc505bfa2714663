import { randomUUID } from 'node:crypto'
import type { Queryable } from '../../helpers/db.ts'

/** What tollgate_private.prepare_purchase answers (bigints as JSON numbers). */
export type PreparedPurchase = {
  kind: 'purchase'
  checkout_id: string
  product: { id: string; amount: number; currency: string; metric: string; credits: number }
  quantity: number
  plan_id: string
  subtotal: number
  member_discount: number
  coupon_discount: number
  amount: number
  currency: string
  coupon: { code: string; percent_off: number | null; amount_off: number | null } | null
}

/** prepare_purchase(user, product, quantity, provider, coupon, now()). */
export const preparePurchase = async (
  q: Queryable,
  userId: string,
  options: { productId?: string; quantity?: number | null; provider?: string; coupon?: string | null } = {},
): Promise<PreparedPurchase> => {
  const [row] = await q<{ prepared: PreparedPurchase }[]>`
    select tollgate_private.prepare_purchase(${userId}::uuid, ${options.productId ?? 'api_calls_pack'},
      ${options.quantity === undefined ? 1 : options.quantity}::integer, ${options.provider ?? 'stripe'},
      ${options.coupon ?? null}::text, now()) as prepared`
  if (!row) throw new Error('prepare_purchase returned nothing')
  return row.prepared
}

/** Puts the user on `planId` now: a live internal subscription for a month. */
export const subscribe = async (q: Queryable, userId: string, planId: string): Promise<void> => {
  await q`
    insert into tollgate.subscriptions (user_id, plan_id, status, provider, current_period_start,
      current_period_end, billing_cycle_anchor)
    values (${userId}, ${planId}, 'active', 'internal', now(), now() + interval '1 month', now())`
}

/** A coupon with a fresh code; plan_ids null (no plan restriction) unless given. */
export const coupon = async (
  q: Queryable,
  options: { percentOff?: number; amountOff?: number; planIds?: string[] | null } = {},
): Promise<string> => {
  const code = `P${randomUUID().replaceAll('-', '').slice(0, 12).toUpperCase()}`
  await q`
    insert into tollgate_private.coupons (code, percent_off, amount_off, currency, plan_ids)
    values (${code}, ${options.amountOff === undefined ? (options.percentOff ?? 15) : null},
      ${options.amountOff ?? null}, ${options.amountOff === undefined ? null : 'usd'},
      ${options.planIds ?? null})`
  return code
}

/**
 * A product checkout as the billing function records one: prepare_purchase, then
 * record_purchase_checkout of a made-up session or order id.
 */
export const recordedPurchaseCheckout = async (
  q: Queryable,
  userId: string,
  options: { provider?: 'stripe' | 'razorpay'; quantity?: number; coupon?: string | null } = {},
): Promise<PreparedPurchase & { providerId: string }> => {
  const provider = options.provider ?? 'stripe'
  const prepared = await preparePurchase(q, userId, { ...options, provider })
  const providerId =
    provider === 'stripe'
      ? `cs_test_${randomUUID().replaceAll('-', '')}`
      : `order_${randomUUID().replaceAll('-', '').slice(0, 14)}`
  await q`
    select tollgate_private.record_purchase_checkout(${userId}::uuid, ${provider}, ${providerId},
      ${prepared.checkout_id}::uuid, ${prepared.product.id}, ${prepared.quantity}::integer,
      ${prepared.amount}::bigint, ${prepared.currency},
      ${q.json(prepared.coupon ? { coupon_code: prepared.coupon.code } : {})})`
  return { ...prepared, providerId }
}
