import * as z from 'zod'

// Unix seconds, up to the year 9999 (Postgres' to_timestamp range is far wider).
const Timestamp = z.number().int().min(0).max(253_402_300_799)

const Optional = <T extends z.ZodType>(schema: T) => schema.nullable().optional()

// Provider ids are untrusted text: a known prefix, at most 255 characters, no control characters.
// Anything else (quotes, SQL, unicode) is stored as data.
const NO_CONTROL = /^[^\u0000-\u001f\u007f]*$/

const StripeId = (prefix: string) =>
  z
    .string()
    .max(255)
    .regex(new RegExp(`^${prefix}_.`), `must start with ${prefix}_`)
    .regex(NO_CONTROL, 'must not contain control characters')

// An expandable field: the id, or the expanded object with its id.
const Expandable = z.union([z.string().max(255), z.object({ id: z.string().max(255) })])

const Metadata = z.record(z.string(), z.string())

const Amount = z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER)

// The schemas below check what Tollgate reads and accept whatever else Stripe sends; they are
// z.object (strip), not z.looseObject: their output is never used (the event goes on as delivered),
// and copying every key of a Stripe object into it cost ~10 us an event (bench/NOTES.md).

/** The envelope of every Stripe event (snapshot events, any API version). */
export const StripeEventEnvelope = z.object({
  id: StripeId('evt'),
  object: z.literal('event'),
  type: z
    .string()
    .max(255)
    .regex(/^[a-z0-9_]+(\.[a-z0-9_]+)+$/, 'must be an event type such as invoice.paid'),
  created: Timestamp,
  api_version: Optional(z.string().max(64)),
  livemode: z.boolean().optional(),
  data: z.object({
    object: z.object({}),
    previous_attributes: z.object({}).optional(),
  }),
})

/** A Stripe event whose envelope is valid. */
export type StripeEventEnvelopeShape = z.output<typeof StripeEventEnvelope>

/** Subscription statuses Stripe sends; Tollgate stores the same words. */
export const SubscriptionStatus = z.enum([
  'trialing',
  'active',
  'past_due',
  'unpaid',
  'canceled',
  'incomplete',
  'incomplete_expired',
  'paused',
])

/** The fields of a Stripe subscription Tollgate reads (basil and later, and older API versions). */
export const StripeSubscriptionObject = z.object({
  id: StripeId('sub'),
  object: z.literal('subscription').optional(),
  status: SubscriptionStatus,
  customer: Optional(Expandable),
  metadata: Optional(Metadata),
  items: z
    .object({
      data: z.array(
        z.object({
          price: Optional(Expandable),
          // Since 2025-03-31.basil the period lives on each item.
          current_period_start: Optional(Timestamp),
          current_period_end: Optional(Timestamp),
        }),
      ),
    })
    .optional(),
  // Before basil.
  current_period_start: Optional(Timestamp),
  current_period_end: Optional(Timestamp),
  billing_cycle_anchor: Optional(Timestamp),
  cancel_at_period_end: Optional(z.boolean()),
  cancel_at: Optional(Timestamp),
  canceled_at: Optional(Timestamp),
  ended_at: Optional(Timestamp),
  trial_end: Optional(Timestamp),
  created: Optional(Timestamp),
})

const SubscriptionDetails = z.object({
  subscription: Optional(Expandable),
  metadata: Optional(Metadata),
})

/** The fields of a Stripe invoice Tollgate reads (basil and later, and older API versions). */
export const StripeInvoiceObject = z.object({
  id: StripeId('in'),
  object: z.literal('invoice'),
  status: Optional(z.string().max(64)),
  currency: Optional(z.string().regex(/^[A-Za-z]{3}$/, 'must be an ISO currency code')),
  amount_due: Optional(Amount),
  amount_paid: Optional(Amount),
  customer: Optional(Expandable),
  // Since basil: parent.subscription_details; before: subscription at the top level.
  parent: Optional(z.object({ subscription_details: Optional(SubscriptionDetails) })),
  subscription: Optional(Expandable),
  subscription_details: Optional(SubscriptionDetails),
  lines: z
    .object({
      data: z.array(
        z.object({
          period: Optional(
            z.object({ start: Optional(Timestamp), end: Optional(Timestamp) }),
          ),
        }),
      ),
    })
    .optional(),
  period_start: Optional(Timestamp),
  period_end: Optional(Timestamp),
  status_transitions: Optional(z.object({ paid_at: Optional(Timestamp) })),
  number: Optional(z.string().max(255)),
  hosted_invoice_url: Optional(z.string().max(2048)),
  invoice_pdf: Optional(z.string().max(2048)),
  created: Optional(Timestamp),
})

/** The fields of a Stripe Checkout Session Tollgate reads. */
export const StripeCheckoutSessionObject = z.object({
  id: StripeId('cs'),
  object: z.literal('checkout.session').optional(),
  mode: Optional(z.string().max(64)),
  status: Optional(z.string().max(64)),
  payment_status: Optional(z.string().max(64)),
  client_reference_id: Optional(z.string().max(255)),
  customer: Optional(Expandable),
  subscription: Optional(Expandable),
  metadata: Optional(Metadata),
})

/** A Checkout Session as Tollgate reads it. */
export type StripeCheckoutSessionShape = z.output<typeof StripeCheckoutSessionObject>

/** The fields of a Stripe refund Tollgate reads (refund.*, charge.refund.updated). */
export const StripeRefundObject = z.object({
  id: StripeId('(re|pyr)'),
  object: z.literal('refund').optional(),
  amount: Amount.min(0),
  currency: z.string().regex(/^[A-Za-z]{3}$/),
  status: z.string().max(64),
  payment_intent: Optional(Expandable),
  charge: Optional(Expandable),
  created: Optional(Timestamp),
})

/** The fields of a Stripe charge Tollgate reads (charge.refunded); refunds embedded before 2022-11-15. */
export const StripeChargeObject = z.object({
  id: StripeId('(ch|py)'),
  amount: Optional(Amount),
  amount_refunded: Optional(Amount.min(0)),
  currency: Optional(z.string().regex(/^[A-Za-z]{3}$/)),
  payment_intent: Optional(Expandable),
  invoice: Optional(Expandable),
  refunds: Optional(z.object({ data: z.array(StripeRefundObject) })),
})

/** The fields of a Stripe dispute Tollgate reads (charge.dispute.*). */
export const StripeDisputeObject = z.object({
  id: StripeId('(du|dp)'),
  amount: Amount.min(0),
  currency: z.string().regex(/^[A-Za-z]{3}$/),
  status: z.string().max(64),
  reason: Optional(z.string().max(255)),
  payment_intent: Optional(Expandable),
  charge: Optional(Expandable),
})

/** The schema of the object an event type carries, when Tollgate reads that object. */
export const objectSchemaFor = (
  type: string,
  object: Record<string, unknown>,
): z.ZodType | null => {
  if (type.startsWith('checkout.session.')) return StripeCheckoutSessionObject
  if (type.startsWith('customer.subscription.')) return StripeSubscriptionObject
  if (type.startsWith('refund.') || type === 'charge.refund.updated') return StripeRefundObject
  if (type.startsWith('charge.dispute.')) return StripeDisputeObject
  if (type === 'charge.refunded') return StripeChargeObject
  // invoice.upcoming describes an invoice that does not exist yet (it has no id).
  if (type.startsWith('invoice.') && type !== 'invoice.upcoming' && object.object === 'invoice') {
    return StripeInvoiceObject
  }
  return null
}

/** The validation error of the event's data.object, or null when it is fine (or not read). */
export const checkEventObject = (event: StripeEventEnvelopeShape): z.ZodError | null => {
  const schema = objectSchemaFor(event.type, event.data.object)
  if (schema === null) return null
  const result = schema.safeParse(event.data.object)
  return result.success ? null : result.error
}

/** The id in an expandable field (an id string or an expanded object), else null. */
export const expandableId = (value: unknown): string | null => {
  if (typeof value === 'string') return value
  if (typeof value === 'object' && value !== null && 'id' in value) {
    const { id } = value as { id: unknown }
    return typeof id === 'string' ? id : null
  }
  return null
}

const PAID = new Set(['paid', 'no_payment_required'])

/** True when a Checkout Session's payment is done (card paid, or nothing to pay). */
export const isCheckoutPaid = (session: { payment_status?: string | null }): boolean =>
  PAID.has(session.payment_status ?? '')

/**
 * The subscription a completed, paid subscription-mode Checkout Session created, which the caller
 * fetches from Stripe and hands to SQL with the event; null when there is none to fetch.
 */
export const checkoutSubscriptionId = (session: {
  mode?: string | null
  payment_status?: string | null
  subscription?: unknown
}): string | null => {
  if (session.mode !== 'subscription' || !isCheckoutPaid(session)) return null
  return expandableId(session.subscription)
}

/** Event types whose subscription must be fetched and passed to SQL as related.subscription. */
export const CHECKOUT_APPLY_TYPES: ReadonlySet<string> = new Set([
  'checkout.session.completed',
  'checkout.session.async_payment_succeeded',
])

/** The subscription id to fetch before applying `event`, or null when the event needs none. */
export const subscriptionToFetch = (event: {
  type: string
  data: { object: object }
}): string | null => {
  if (!CHECKOUT_APPLY_TYPES.has(event.type)) return null
  return checkoutSubscriptionId(event.data.object as StripeCheckoutSessionShape)
}

/** Compares Stripe API versions (`YYYY-MM-DD[.name]`) by date: negative when `a` is older. */
export const compareApiVersions = (a: string, b: string): number =>
  a.slice(0, 10).localeCompare(b.slice(0, 10))

/** The first API version with subscription periods on items and invoice.parent. */
export const BASIL = '2025-03-31.basil'

/** True for events rendered before basil (legacy shape: periods on the subscription, invoice.subscription). */
export const isPreBasil = (apiVersion: string | null | undefined): boolean =>
  typeof apiVersion === 'string' && compareApiVersions(apiVersion, BASIL) < 0
