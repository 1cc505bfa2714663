import type { Sql } from './db.ts'
import type { BillingHarness, Caller } from './billing.ts'
import type { StripeJson } from './stripe/events.ts'

/** Puts the user on `planId` now (a live internal subscription for a month), committed. */
export const subscribeInternally = async (sql: Sql, userId: string, planId: string) => {
  await sql`
    insert into tollgate.subscriptions (user_id, plan_id, status, provider, current_period_start,
      current_period_end, billing_cycle_anchor)
    values (${userId}, ${planId}, 'active', 'internal', now(), now() + interval '1 month', now())`
}

/** What a user's purchases left behind: purchases, credit grants, notifications. */
export const purchaseStateOf = async (sql: Sql, userId: string) => ({
  purchases: await sql`
    select id, product_id, quantity, provider, status, currency, amount_paid, coupon_code
    from tollgate.purchases where user_id = ${userId} order by created_at, id`,
  credits: await sql`
    select metric, granted, remaining, source, purchase_id from tollgate.credit_balances
    where user_id = ${userId} order by created_at, id`,
  notifications: await sql`
    select kind, data ->> 'purchase_id' as purchase_id from tollgate.notifications
    where user_id = ${userId} and kind = 'purchase_succeeded' order by created_at`,
})

/** A product checkout through the app; throws unless it answered 200. */
export const productCheckout = async (
  h: BillingHarness,
  caller: Caller,
  body: Record<string, unknown> = {},
) => {
  const answer = await h.post('checkout', caller, { product_id: 'api_calls_pack', ...body })
  if (answer.status !== 200) {
    throw new Error(`checkout answered ${answer.status} ${JSON.stringify(answer.body)}`)
  }
  return answer.body as Record<string, any>
}

/** A Stripe product checkout through the app, paid at the fake; the events Stripe sent for it. */
export const paidStripePurchase = async (
  h: BillingHarness,
  caller: Caller,
  body: Record<string, unknown> = {},
  options: { paymentStatus?: 'paid' | 'unpaid' } = {},
): Promise<{ sessionId: string; events: StripeJson[] }> => {
  const from = h.stripe.events.length
  const checkout = await productCheckout(h, caller, body)
  const sessionId = String(checkout.session_id)
  h.stripe.completePaymentCheckout(sessionId, options)
  return { sessionId, events: h.stripe.events.slice(from) }
}

/** A Razorpay product checkout through the app, paid at the fake (what Checkout hands back). */
export const paidRazorpayPurchase = async (
  h: BillingHarness,
  caller: Caller,
  body: Record<string, unknown> = {},
) => {
  const checkout = await productCheckout(h, caller, { provider: 'razorpay', ...body })
  return h.razorpay.pay(String(checkout.order_id))
}
