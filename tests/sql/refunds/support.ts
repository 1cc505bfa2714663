import { randomUUID } from 'node:crypto'
import type { Queryable } from '../../helpers/db.ts'
import { eventId, makeStripeEvent, stripeId, type StripeJson } from '../../helpers/stripe/events.ts'

/** A paid purchase with its credit grant and its provider payment ref, as the purchase helper writes them. */
export type TestPurchase = {
  id: string
  paymentId: string
  grantId: string
  amount: number
}

/**
 * Writes a paid `api_calls_pack` purchase (1000 usd, 50,000 credits) the way the conventions say:
 * the purchase, its grant, and the ('stripe', 'payment_intent', pi_...) or ('razorpay', 'payment',
 * pay_...) ref pointing at it.
 */
export const paidPurchase = async (
  q: Queryable,
  userId: string,
  options: { provider?: 'stripe' | 'razorpay'; amount?: number; currency?: string } = {},
): Promise<TestPurchase> => {
  const provider = options.provider ?? 'stripe'
  const amount = options.amount ?? 1000
  const paymentId = provider === 'stripe' ? stripeId('pi') : `pay_${randomUUID().replaceAll('-', '').slice(0, 14)}`
  const [purchase] = await q<{ id: string }[]>`
    insert into tollgate.purchases (user_id, product_id, provider, currency, amount_paid, checkout_id)
    values (${userId}, 'api_calls_pack', ${provider}, ${options.currency ?? 'usd'}, ${amount}, gen_random_uuid())
    returning id`
  const [grant] = await q<{ id: string }[]>`
    select g.id from tollgate_private.grant_credits(${userId}, 'api_calls', 50000,
      now() + interval '365 days', 'purchase', ${purchase!.id}) g`
  await q`
    insert into tollgate_private.provider_refs (provider, object_type, provider_id, local_id, user_id, details)
    values (${provider}, ${provider === 'stripe' ? 'payment_intent' : 'payment'}, ${paymentId}, ${purchase!.id},
      ${userId}, ${q.json({ purchase_id: purchase!.id, kind: 'purchase' })})`
  return { id: purchase!.id, paymentId, grantId: grant!.id, amount }
}

/** A paid Stripe invoice row and its payment intent ref (kind invoice). */
export const paidInvoice = async (
  q: Queryable,
  userId: string,
  amount = 2900,
): Promise<{ id: string; paymentId: string }> => {
  const paymentId = stripeId('pi')
  const [invoice] = await q<{ id: string }[]>`
    insert into tollgate.invoices (user_id, provider, status, currency, amount_due, amount_paid, paid_at)
    values (${userId}, 'stripe', 'paid', 'usd', ${amount}, ${amount}, now())
    returning id`
  await q`select tollgate_private.link_stripe_invoice_payment(${paymentId}, ${invoice!.id})`
  return { id: invoice!.id, paymentId }
}

/** A Stripe refund object (shaped as the API reference and the SDK's Refund type). */
export const refundObject = (
  paymentIntent: string,
  amount: number,
  status: string,
  options: { id?: string; charge?: string; created?: number } = {},
): StripeJson => ({
  id: options.id ?? stripeId('re'),
  object: 'refund',
  amount,
  balance_transaction: stripeId('txn'),
  charge: options.charge ?? stripeId('ch'),
  created: options.created ?? Math.floor(Date.now() / 1000),
  currency: 'usd',
  destination_details: { card: { reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' }, type: 'card' },
  metadata: {},
  payment_intent: paymentIntent,
  reason: 'requested_by_customer',
  receipt_number: null,
  source_transfer_reversal: null,
  status,
  transfer_reversal: null,
})

/** A Stripe charge object; `refunds` embedded as API versions before 2022-11-15 send it. */
export const chargeObject = (
  paymentIntent: string,
  amount: number,
  amountRefunded: number,
  options: { id?: string; refunds?: StripeJson[] } = {},
): StripeJson => {
  const id = options.id ?? stripeId('ch')
  return {
    id,
    object: 'charge',
    amount,
    amount_captured: amount,
    amount_refunded: amountRefunded,
    captured: true,
    created: Math.floor(Date.now() / 1000) - 3600,
    currency: 'usd',
    disputed: false,
    paid: true,
    payment_intent: paymentIntent,
    refunded: amountRefunded >= amount,
    status: 'succeeded',
    ...(options.refunds
      ? {
        refunds: {
          object: 'list',
          data: options.refunds,
          has_more: false,
          total_count: options.refunds.length,
          url: `/v1/charges/${id}/refunds`,
        },
      }
      : {}),
  }
}

/** A Stripe dispute object. */
export const disputeObject = (
  paymentIntent: string,
  amount: number,
  status: string,
  options: { id?: string; charge?: string } = {},
): StripeJson => ({
  id: options.id ?? stripeId('du'),
  object: 'dispute',
  amount,
  balance_transactions: [],
  charge: options.charge ?? stripeId('ch'),
  created: Math.floor(Date.now() / 1000),
  currency: 'usd',
  evidence_details: { due_by: Math.floor(Date.now() / 1000) + 7 * 86400, has_evidence: false, past_due: false, submission_count: 0 },
  is_charge_refundable: false,
  livemode: false,
  metadata: {},
  payment_intent: paymentIntent,
  reason: 'fraudulent',
  status,
})

/** Applies a Stripe event as the webhook does; answers apply_stripe_event's result. */
export const applyStripe = async (
  q: Queryable,
  type: string,
  object: StripeJson,
  options: { created?: number; id?: string; apiVersion?: string } = {},
): Promise<Record<string, any>> => {
  const event = makeStripeEvent(type, object, {
    id: options.id ?? eventId(),
    ...(options.created !== undefined ? { created: options.created } : {}),
    ...(options.apiVersion !== undefined ? { apiVersion: options.apiVersion } : {}),
  })
  const [row] = await q<{ result: Record<string, any> }[]>`
    select tollgate_private.apply_stripe_event(${JSON.stringify(event)}::text::jsonb) as result`
  return row!.result
}

/** The purchase's status and amount_refunded, and its credits. */
export const purchaseState = async (q: Queryable, purchaseId: string) => {
  const [row] = await q<{ status: string; amount_refunded: number; granted: number; remaining: number; revoked: boolean }[]>`
    select p.status, p.amount_refunded::int, g.granted::int, g.remaining::int, g.revoked_at is not null as revoked
    from tollgate.purchases p join tollgate.credit_balances g on g.purchase_id = p.id
    where p.id = ${purchaseId}`
  return row!
}

/** Notifications of a kind for a user. */
export const notificationsOf = (q: Queryable, userId: string, kind: string) =>
  q<{ dedupe_key: string; data: StripeJson }[]>`
    select dedupe_key, data from tollgate.notifications where user_id = ${userId} and kind = ${kind}
    order by created_at`
