import { createRazorpayOrder } from '../../../packages/providers/razorpay/src/orders.ts'
import {
  razorpayId,
  razorpayWebhookEvent,
  type FakeRazorpay,
  type FakeWebhookEvent,
} from '../../helpers/fake-razorpay.ts'
import type { Queryable, Sql } from '../../helpers/db.ts'

export { testUsers } from '../subscriptions/support.ts'

/** A Razorpay order made as the billing function makes one: prepare_checkout, record_checkout. */
export type TestOrder = {
  orderId: string
  checkoutId: string
  kind: string
  planId: string
  amount: number
  currency: string
  coupon: { code: string; redemption_id: string } | null
}

type Prepared = {
  kind: string
  checkout_id: string
  amount: number
  currency: string
  coupon: { code: string; redemption_id: string } | null
}

/** prepare_checkout(user, plan, 'razorpay', coupon, now()), then record_checkout of an order id. */
export const checkoutOrder = async (
  q: Queryable,
  userId: string,
  options: { planId?: string; coupon?: string | null; orderId?: string } = {},
): Promise<TestOrder> => {
  const planId = options.planId ?? 'pro'
  const orderId = options.orderId ?? razorpayId('order')
  const [row] = await q<{ prepared: Prepared }[]>`
    select tollgate_private.prepare_checkout(
      ${userId}::uuid, ${planId}, 'razorpay', ${options.coupon ?? null}::text, now()) as prepared`
  if (!row) throw new Error('prepare_checkout returned nothing')
  const { prepared } = row
  await q`
    select tollgate_private.record_checkout(
      ${userId}::uuid, 'razorpay', ${orderId}, ${prepared.checkout_id}::uuid, ${planId},
      ${prepared.amount}::bigint, ${prepared.currency})`
  return {
    orderId,
    checkoutId: prepared.checkout_id,
    kind: prepared.kind,
    planId,
    amount: Number(prepared.amount),
    currency: prepared.currency,
    coupon: prepared.coupon,
  }
}

/**
 * A checkout committed as the billing function runs it: prepare_checkout, an Order created at the
 * fake Razorpay API (amount in the plan's minor units, notes.user_id / plan_id / checkout id), then
 * record_checkout.
 */
export const checkoutOrderAt = async (
  fake: FakeRazorpay,
  sql: Sql,
  userId: string,
  options: { planId?: string; coupon?: string | null } = {},
): Promise<TestOrder> => {
  const planId = options.planId ?? 'pro'
  const [row] = await sql<{ prepared: Prepared }[]>`
    select tollgate_private.prepare_checkout(
      ${userId}::uuid, ${planId}, 'razorpay', ${options.coupon ?? null}::text, now()) as prepared`
  if (!row) throw new Error('prepare_checkout returned nothing')
  const { prepared } = row
  const order = await createRazorpayOrder(fake.env, {
    amount: Number(prepared.amount),
    currency: prepared.currency,
    receipt: prepared.checkout_id,
    notes: { user_id: userId, plan_id: planId, tollgate_checkout_id: prepared.checkout_id },
  })
  await sql`
    select tollgate_private.record_checkout(
      ${userId}::uuid, 'razorpay', ${order.id}, ${prepared.checkout_id}::uuid, ${planId},
      ${order.amount}::bigint, ${prepared.currency})`
  return {
    orderId: order.id,
    checkoutId: prepared.checkout_id,
    kind: prepared.kind,
    planId,
    amount: order.amount,
    currency: prepared.currency,
    coupon: prepared.coupon,
  }
}

/** What apply_razorpay_payment and apply_razorpay_event answer. */
export type ApplyResult = {
  outcome: string
  subscription_id?: string
  user_id?: string
  invoice_id?: string
  error?: string
  event_id?: string
  type?: string
}

/** The verify-payment path: apply_razorpay_payment(user, order, payment, amount, source, as_of). */
export const verifyPayment = async (
  q: Queryable,
  userId: string | null,
  orderId: string,
  options: { paymentId?: string; amount?: number | null; source?: string; asOf?: string } = {},
): Promise<ApplyResult> => {
  const [row] = await q<{ result: ApplyResult }[]>`
    select tollgate_private.apply_razorpay_payment(
      ${userId}::uuid, ${orderId}, ${options.paymentId ?? razorpayId('pay')},
      ${options.amount ?? null}::bigint, ${options.source ?? 'verify'},
      coalesce(${options.asOf ?? null}::timestamptz, now())) as result`
  if (!row) throw new Error('apply_razorpay_payment returned nothing')
  return row.result
}

/** The database's now() as unix seconds (whole, as Razorpay sends created_at). */
export const unixNowOf = async (q: Queryable): Promise<number> => {
  const [row] = await q<{ at: number }[]>`select floor(extract(epoch from now()))::int as at`
  if (!row) throw new Error('no clock')
  return row.at
}

/** A webhook body from the official sample about an order (created_at = the database's now()). */
export const eventFor = async (
  q: Queryable,
  type: FakeWebhookEvent,
  order: { orderId: string; amount: number; currency: string },
  options: { paymentId?: string; amount?: number; createdAt?: number } = {},
): Promise<Record<string, unknown>> =>
  razorpayWebhookEvent(type, {
    orderId: order.orderId,
    paymentId: options.paymentId ?? razorpayId('pay'),
    amount: options.amount ?? order.amount,
    currency: order.currency,
    createdAt: options.createdAt ?? (await unixNowOf(q)),
    order: { amount: order.amount },
  })

/** The webhook path: apply_razorpay_event(event_id, event). */
export const applyEvent = async (
  q: Queryable,
  eventId: string,
  event: Record<string, unknown>,
): Promise<ApplyResult> => {
  const [row] = await q<{ result: ApplyResult }[]>`
    select tollgate_private.apply_razorpay_event(
      ${eventId}, ${JSON.stringify(event)}::text::jsonb) as result`
  if (!row) throw new Error('apply_razorpay_event returned nothing')
  return row.result
}

/** A subscription row as these tests read it. */
export type SubscriptionRow = {
  id: string
  plan_id: string
  status: string
  provider: string
  current_period_start: Date
  current_period_end: Date
  billing_cycle_anchor: Date | null
  cancel_at_period_end: boolean
}

/** Every subscription of a user, oldest first. */
export const subscriptionsOf = async (q: Queryable, userId: string): Promise<SubscriptionRow[]> =>
  q<SubscriptionRow[]>`
    select id, plan_id, status, provider, current_period_start, current_period_end,
      billing_cycle_anchor, cancel_at_period_end
    from tollgate.subscriptions where user_id = ${userId}::uuid
    order by created_at, current_period_start`

/** An invoice row as these tests read it (bigint columns as strings). */
export type InvoiceRow = {
  subscription_id: string | null
  provider: string
  number: string | null
  status: string
  currency: string
  amount_due: string
  amount_paid: string
  period_start: Date | null
  period_end: Date | null
  paid_at: Date | null
}

/** Every invoice of a user, by period. */
export const invoicesOf = async (q: Queryable, userId: string): Promise<InvoiceRow[]> =>
  q<InvoiceRow[]>`
    select subscription_id, provider, number, status, currency, amount_due, amount_paid,
      period_start, period_end, paid_at
    from tollgate.invoices where user_id = ${userId}::uuid
    order by period_start, created_at`

/** The ledger row of a Razorpay event, or undefined. */
export type LedgerRow = {
  event_id: string
  type: string
  outcome: string | null
  error: string | null
  attempts: number
  processed: boolean
  event_created_at: Date | null
}

/** The ledger row of one Razorpay event id. */
export const ledgerOf = async (q: Queryable, eventId: string): Promise<LedgerRow | undefined> => {
  const [row] = await q<LedgerRow[]>`
    select event_id, type, outcome, error, attempts, processed_at is not null as processed,
      event_created_at
    from tollgate_private.webhook_events
    where provider = 'razorpay' and event_id = ${eventId}`
  return row
}

/** The provider_refs row of an order: owner, the subscription it paid for, details. */
export type OrderRef = {
  user_id: string
  local_id: string | null
  last_event_id: string | null
  details: { checkout_id: string; plan_id: string; amount: number; currency: string }
}

/** The order as record_checkout left it (and the payment applied it). */
export const orderRefOf = async (q: Queryable, orderId: string): Promise<OrderRef | undefined> => {
  const [row] = await q<OrderRef[]>`
    select user_id, local_id, last_event_id, details
    from tollgate_private.provider_refs
    where provider = 'razorpay' and object_type = 'order' and provider_id = ${orderId}`
  return row
}

/** `moment + interval` computed by the database (month arithmetic as the SQL does it). */
export const plus = async (
  q: Queryable,
  moment: Date | string,
  interval: string,
): Promise<Date> => {
  const [row] = await q<{ at: Date }[]>`
    select ${moment instanceof Date ? moment.toISOString() : moment}::timestamptz
      + ${interval}::interval as at`
  if (!row) throw new Error('no moment')
  return row.at
}

/** A usage counter of a user (bigint columns as strings). */
export type CounterRow = {
  plan_id: string
  used: string
  quota: string
  base_quota: string
  period_start: Date
  period_end: Date | null
  valid_until: Date | null
}

/** The api_calls (or other) counter of a user. */
export const counterOf = async (
  q: Queryable,
  userId: string,
  metric = 'api_calls',
): Promise<CounterRow | undefined> => {
  const [row] = await q<CounterRow[]>`
    select plan_id, used, quota, base_quota, period_start, period_end, valid_until
    from tollgate_private.usage_counters where user_id = ${userId}::uuid and metric = ${metric}`
  return row
}
