/**
 * The shapes of Tollgate's answers that the generated `database.types.ts` cannot give: jsonb
 * answers of SQL functions, rows of the usage view with their nullability, and the billing
 * function's bodies. tests/client/answer_types_have_the_keys_sql_answers.test.ts checks each SQL
 * answer's keys and value kinds against a real call.
 */
import type { Tables } from './database.types.ts'

/** A subscription row as its owner reads it. */
export type Subscription = Tables<'subscriptions'>

/**
 * One metric of the caller's current plan (tollgate.usage; remaining null when unlimited; credits:
 * usable bought or granted credits, drawn once the quota is spent).
 */
export type Usage = {
  metric: string
  period: string
  period_start: string | null
  period_end: string | null
  used: number
  quota: number
  remaining: number | null
  credits: number
}

/**
 * What tollgate.consume_usage answers; a refused call has allowed = false and counts nothing. Past
 * the quota, credits pay the rest: credits_drawn of this call, credits_remaining after it.
 */
export type ConsumeResult = {
  allowed: boolean
  metric: string
  used: number
  quota: number
  remaining: number | null
  period_end: string | null
  credits_remaining: number
  credits_drawn: number
}

/** What POST /billing/checkout answers: a payment to make, or the switch to a free plan. */
export type CheckoutResult =
  | { provider: 'stripe'; session_id: string; url: string }
  | { provider: 'razorpay'; order_id: string; amount: number; currency: string; key_id: string }
  | { subscription: Subscription | null }

/** What the subscription-changing calls answer. */
export type SubscriptionResult = { subscription: Subscription | null }

/** A purchase of a product as its owner reads it. */
export type Purchase = Tables<'purchases'>

/** What POST /billing/verify-payment answers: the plan's subscription, or a product's purchase. */
export type VerifyPaymentResult =
  | (SubscriptionResult & { purchase?: never })
  | { purchase: Purchase | null; subscription?: never }

/** An API key as its owner reads it (tollgate.api_keys): metadata only, never the key. */
export type ApiKey = Tables<'api_keys'>

/** What tollgate.create_api_key answers: the key itself, shown this once, and its metadata. */
export type CreatedApiKey = {
  id: string
  key: string
  prefix: string
  name: string
  scopes: string[]
  created_at: string
  expires_at: string | null
}
