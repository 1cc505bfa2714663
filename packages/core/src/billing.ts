import * as z from 'zod'
import { ApiError } from './http.ts'
import type { Env } from './env.ts'

/** Any JSON object coming back from SQL. */
export type Json = Record<string, unknown>

const PlanId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'not a plan id')
const RedirectUrl = z.url({ protocol: /^https?$/ }).max(2048)

const CheckoutOptions = {
  provider: z.enum(['stripe', 'razorpay']).default('stripe'),
  coupon_code: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'not a coupon code')
    .optional(),
  success_url: RedirectUrl.optional(),
  cancel_url: RedirectUrl.optional(),
}

/** Body of POST /billing/checkout for a plan. */
export const PlanCheckoutRequest = z.strictObject({ plan_id: PlanId, ...CheckoutOptions })

/** Body of POST /billing/checkout for a product (one-time purchase of `quantity` units). */
export const ProductCheckoutRequest = z.strictObject({
  product_id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'not a product id'),
  quantity: z.number().int().min(1).max(1000).default(1),
  ...CheckoutOptions,
})

type PlanCheckout = z.output<typeof PlanCheckoutRequest>
type ProductCheckout = z.output<typeof ProductCheckoutRequest>

/**
 * Body of POST /billing/checkout: a plan_id or a product_id, never both. The body names which
 * (product_id present: a product), so errors point at its fields rather than at a failed union.
 */
export const CheckoutRequest = z.unknown().transform((body, ctx): PlanCheckout | ProductCheckout => {
  const isProduct = typeof body === 'object' && body !== null && 'product_id' in body
  const parsed = (isProduct ? ProductCheckoutRequest : PlanCheckoutRequest).safeParse(body)
  if (parsed.success) return parsed.data
  for (const issue of parsed.error.issues) {
    ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path, input: body })
  }
  return z.NEVER
})

/** Body of POST /billing/verify-payment. */
export const VerifyPaymentRequest = z.discriminatedUnion('provider', [
  z.strictObject({
    provider: z.literal('stripe'),
    session_id: z.string().regex(/^cs_[A-Za-z0-9_]{1,250}$/, 'not a Checkout Session id'),
  }),
  z.strictObject({
    provider: z.literal('razorpay'),
    razorpay_order_id: z.string().regex(/^order_[A-Za-z0-9]{1,40}$/, 'not an order id'),
    razorpay_payment_id: z.string().regex(/^pay_[A-Za-z0-9]{1,40}$/, 'not a payment id'),
    razorpay_signature: z.string().regex(/^[0-9a-f]{64}$/, 'not a signature'),
  }),
])

/** Body of POST /billing/change-plan. */
export const PlanChangeRequest = z.strictObject({ plan_id: PlanId })

/** Body of POST /billing/portal (may be empty). */
export const PortalRequest = z.strictObject({ return_url: RedirectUrl.optional() })

/** What tollgate_private.prepare_checkout returns. */
export type PreparedCheckout =
  | { kind: 'free'; plan: PlanRow; live: Json | null }
  | {
      kind: 'new' | 'renewal'
      checkout_id: string
      plan: PlanRow
      amount: number
      currency: string
      customer_id: string | null
      /** The user's Stripe Checkout Sessions that may still be open: expire them before this one. */
      open_sessions: string[]
      coupon: {
        code: string
        percent_off: number | null
        amount_off: number | null
        currency: string | null
        stripe_coupon_id: string | null
        duration?: 'once' | 'repeating' | 'forever'
        duration_in_months?: number | null
        valid_until?: string | null
      } | null
    }

/** What tollgate_private.prepare_purchase returns: the priced, reserved product checkout. */
export type PreparedPurchase = {
  kind: 'purchase'
  checkout_id: string
  product: {
    id: string
    name: string
    amount: number
    currency: string
    metric: string
    credits: number
  }
  quantity: number
  /** The plan whose member discount applied. */
  plan_id: string
  subtotal: number
  member_discount: number
  coupon_discount: number
  /** What the provider must take, after both discounts (minor units). */
  amount: number
  currency: string
  customer_id: string | null
  coupon: { code: string } | null
}

/** A tollgate.plans row as JSON. */
export type PlanRow = {
  id: string
  name: string
  amount: number
  currency: string
  interval: 'month' | 'year'
  trial_days: number
  stripe_price_id: string | null
}

/**
 * The URL a provider sends the user back to: the one asked for when its origin is in
 * TOLLGATE_REDIRECT_ORIGINS, else a default on the first allowed origin.
 */
export const redirectUrl = (
  env: Pick<Env, 'TOLLGATE_REDIRECT_ORIGINS'>,
  asked: string | undefined,
  purpose: 'success' | 'cancel' | 'return',
): string => {
  const origins = env.TOLLGATE_REDIRECT_ORIGINS ?? []
  if (asked !== undefined) {
    if (!origins.includes(new URL(asked).origin)) {
      throw new ApiError('BADRQ', {
        message: `${purpose} URL must be on an allowed origin`,
        details: { allowed: origins },
        hint: 'Add the origin to TOLLGATE_REDIRECT_ORIGINS.',
      })
    }
    return asked
  }
  const [first] = origins
  if (first === undefined) {
    throw new ApiError('NOCFG', { details: { missing: 'TOLLGATE_REDIRECT_ORIGINS' } })
  }
  const query = purpose === 'success' ? '?checkout=success&session_id={CHECKOUT_SESSION_ID}' : `?checkout=${purpose}`
  return `${first}/${query}`
}

/** Body of POST /billing/admin/refund: exactly one of invoice_id and purchase_id. */
/** POST /billing/cancel: an optional reason, recorded in the audit log. */
export const CancelRequest = z.strictObject({
  reason: z.string().trim().min(1).max(500).optional(),
})

/** POST /billing/delete-account: `confirm` must be literally true (nothing is deleted otherwise). */
export const DeleteAccountRequest = z.strictObject({
  confirm: z.literal(true, 'confirm must be true to delete the account'),
})

/** POST /billing/admin/cancel: whose subscription and why; at once unless at_period_end. */
export const AdminCancelRequest = z.strictObject({
  user_id: z.uuid(),
  reason: z.string().trim().min(1).max(500),
  at_period_end: z.boolean().optional(),
})

export const AdminRefundRequest = z
  .strictObject({
    invoice_id: z.uuid().optional(),
    purchase_id: z.uuid().optional(),
    /** Minor units; default all that is left to refund. */
    amount: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    reason: z.string().trim().min(1).max(1000),
  })
  .refine((body) => (body.invoice_id === undefined) !== (body.purchase_id === undefined), {
    message: 'give exactly one of invoice_id and purchase_id',
    path: ['invoice_id'],
  })

/** The caller's `Idempotency-Key` header of an admin refund (1 to 255 characters) or undefined. */
export const RefundIdempotencyKey = z.string().min(1).max(255).optional()

/** What tollgate_private.prepare_admin_refund returns. */
export type PreparedRefund = {
  request_id: string
  idempotency_key: string
  provider: 'stripe' | 'razorpay'
  payment_id: string
  amount: number
  currency: string
  state: 'requested' | 'sent'
  replayed: boolean
  /** The recorded answer when the request was sent already. */
  answer: Json | null
}
