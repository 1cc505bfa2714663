import { randomUUID } from 'node:crypto'
import { readStripeFixture, stripeId, type StripeJson } from './events.ts'

/** The seeded pro plan's Stripe price (supabase/seed.sql). */
export const PRO_PRICE = 'price_pro_monthly'

/** The seeded enterprise plan's Stripe price. */
export const ENTERPRISE_PRICE = 'price_enterprise_monthly'

/** One user's Stripe objects, with ids unique to the test (the database is shared). */
export type StripeWorld = {
  userId: string
  customerId: string
  subscriptionId: string
  itemId: string
  sessionId: string
}

/** Fresh Stripe ids for `userId`. */
export const newWorld = (userId: string): StripeWorld => ({
  userId,
  customerId: stripeId('cus'),
  subscriptionId: stripeId('sub'),
  itemId: stripeId('si'),
  sessionId: `cs_test_${randomUUID().replaceAll('-', '')}`,
})

/** Seconds since 1970, now. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000)

/** 30 days in seconds. */
export const MONTH = 30 * 24 * 3600

/** Overrides of `subscriptionFixture`. */
export type SubscriptionOptions = {
  status?: string
  price?: string
  periodStart?: number
  periodEnd?: number
  created?: number
  cancelAtPeriodEnd?: boolean
  cancelAt?: number | null
  canceledAt?: number | null
  endedAt?: number | null
  trialEnd?: number | null
  latestInvoice?: string | null
  metadata?: Record<string, string>
}

/**
 * A basil-shaped subscription (derived/subscription.active.json) of the world's user: metadata.user_id
 * as Tollgate's checkout sets it, the price on its one item and the period on that item.
 */
export const subscriptionFixture = (
  world: StripeWorld,
  options: SubscriptionOptions = {},
): StripeJson => {
  const sub = readStripeFixture('derived/subscription.active.json')
  const start = options.periodStart ?? nowSeconds()
  const end = options.periodEnd ?? start + MONTH
  const created = options.created ?? start
  sub.id = world.subscriptionId
  sub.customer = world.customerId
  sub.metadata = options.metadata ?? { user_id: world.userId }
  sub.status = options.status ?? 'active'
  sub.created = created
  sub.start_date = created
  sub.billing_cycle_anchor = created
  sub.cancel_at_period_end = options.cancelAtPeriodEnd ?? false
  sub.cancel_at = options.cancelAt ?? (options.cancelAtPeriodEnd ? end : null)
  sub.canceled_at = options.canceledAt ?? null
  sub.ended_at = options.endedAt ?? null
  sub.trial_end = options.trialEnd ?? null
  sub.trial_start = options.trialEnd ? created : null
  sub.latest_invoice = options.latestInvoice ?? null
  sub.items.url = `/v1/subscription_items?subscription=${world.subscriptionId}`
  const item = sub.items.data[0]
  item.id = world.itemId
  item.subscription = world.subscriptionId
  item.created = created
  item.price.id = options.price ?? PRO_PRICE
  item.current_period_start = start
  item.current_period_end = end
  return sub
}

/** Overrides of `invoiceFixture`. */
export type InvoiceOptions = {
  id?: string
  status?: 'draft' | 'open' | 'paid' | 'void' | 'uncollectible'
  billingReason?: string
  amountDue?: number
  amountPaid?: number
  currency?: string
  periodStart?: number
  periodEnd?: number
  created?: number
  price?: string
  attemptCount?: number
  nextPaymentAttempt?: number | null
}

/**
 * A basil-shaped subscription invoice (derived/invoice.paid.subscription_create.json) of the world's
 * subscription: parent.subscription_details with the subscription's metadata, one line for its item.
 */
export const invoiceFixture = (world: StripeWorld, options: InvoiceOptions = {}): StripeJson => {
  const invoice = readStripeFixture('derived/invoice.paid.subscription_create.json')
  const id = options.id ?? stripeId('in')
  const status = options.status ?? 'paid'
  const start = options.periodStart ?? nowSeconds()
  const end = options.periodEnd ?? start + MONTH
  const created = options.created ?? start
  const due = options.amountDue ?? 2900
  const paid = options.amountPaid ?? (status === 'paid' ? due : 0)
  invoice.id = id
  invoice.customer = world.customerId
  invoice.status = status
  invoice.billing_reason = options.billingReason ?? 'subscription_create'
  invoice.currency = options.currency ?? 'usd'
  invoice.amount_due = due
  invoice.amount_paid = paid
  invoice.amount_remaining = due - paid
  invoice.subtotal = due
  invoice.subtotal_excluding_tax = due
  invoice.total = due
  invoice.total_excluding_tax = due
  invoice.created = created
  invoice.effective_at = status === 'draft' ? null : created
  invoice.period_start = created
  invoice.period_end = created
  invoice.number = status === 'draft' ? null : `TG-${id.slice(3, 11).toUpperCase()}`
  invoice.hosted_invoice_url = status === 'draft'
    ? null
    : `https://invoice.stripe.com/i/acct_test/${id}`
  invoice.invoice_pdf = status === 'draft'
    ? null
    : `https://pay.stripe.com/invoice/acct_test/${id}/pdf`
  invoice.attempt_count = options.attemptCount ?? (status === 'draft' ? 0 : 1)
  invoice.attempted = invoice.attempt_count > 0
  invoice.next_payment_attempt = options.nextPaymentAttempt ?? null
  invoice.status_transitions = {
    finalized_at: status === 'draft' ? null : created,
    marked_uncollectible_at: status === 'uncollectible' ? created : null,
    paid_at: status === 'paid' ? created : null,
    voided_at: status === 'void' ? created : null,
  }
  invoice.parent = {
    quote_details: null,
    subscription_details: {
      metadata: { user_id: world.userId },
      subscription: world.subscriptionId,
    },
    type: 'subscription_details',
  }
  const line = invoice.lines.data[0]
  line.id = stripeId('il')
  line.invoice = id
  line.amount = due
  line.subtotal = due
  line.period = { start, end }
  line.subscription = world.subscriptionId
  line.parent.subscription_item_details.subscription = world.subscriptionId
  line.parent.subscription_item_details.subscription_item = world.itemId
  line.pricing.price_details.price = options.price ?? PRO_PRICE
  line.pricing.unit_amount_decimal = String(due)
  invoice.lines.url = `/v1/invoices/${id}/lines`
  return invoice
}

/** Overrides of `checkoutSessionFixture`. */
export type CheckoutSessionOptions = {
  mode?: string
  status?: string
  paymentStatus?: string
  clientReferenceId?: string | null
  metadata?: Record<string, string>
  invoice?: string | null
  created?: number
}

/**
 * A subscription-mode Checkout Session (derived/checkout.session.completed.subscription.json) as
 * Tollgate's checkout creates it: client_reference_id and metadata.user_id = the user.
 */
export const checkoutSessionFixture = (
  world: StripeWorld,
  options: CheckoutSessionOptions = {},
): StripeJson => {
  const session = readStripeFixture('derived/checkout.session.completed.subscription.json')
  session.id = world.sessionId
  session.mode = options.mode ?? 'subscription'
  session.status = options.status ?? 'complete'
  session.payment_status = options.paymentStatus ?? 'paid'
  session.client_reference_id = options.clientReferenceId === undefined
    ? world.userId
    : options.clientReferenceId
  session.metadata = options.metadata ?? { user_id: world.userId }
  session.customer = world.customerId
  session.subscription = session.mode === 'subscription' ? world.subscriptionId : null
  session.invoice = options.invoice ?? null
  session.amount_subtotal = 2900
  session.amount_total = 2900
  session.created = options.created ?? nowSeconds()
  session.expires_at = session.created + 24 * 3600
  return session
}
