import * as z from 'zod'

/**
 * Razorpay `notes`: an object of short strings, or `[]` when empty (as the official samples send
 * it); numbers and booleans are kept as text. Always an object after parsing.
 */
export const RazorpayNotes = z
  .union([
    z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
    z.array(z.never()).length(0),
  ])
  .transform((notes): Record<string, string> =>
    Array.isArray(notes)
      ? {}
      : Object.fromEntries(
          Object.entries(notes).map(([key, value]) => [key, value === null ? '' : String(value)]),
        ),
  )

/** Razorpay notes after parsing. */
export type RazorpayNotes = z.output<typeof RazorpayNotes>

const Amount = z.number().int().nonnegative()
const UnixTime = z.number().int().nonnegative()

/** A payment snapshot in a webhook (`payload.payment.entity`); other fields are kept as sent. */
export const RazorpayPaymentEntity = z.looseObject({
  id: z.string().regex(/^pay_\w+$/),
  entity: z.literal('payment').optional(),
  order_id: z
    .string()
    .regex(/^order_\w+$/)
    .nullable(),
  amount: Amount,
  currency: z.string().regex(/^[A-Za-z]{3}$/),
  status: z.string().min(1),
  // The subscription samples send the string "1" for true.
  captured: z
    .union([z.boolean(), z.enum(['0', '1'])])
    .transform((value) => value === true || value === '1')
    .optional(),
  notes: RazorpayNotes.optional(),
  error_code: z.string().nullable().optional(),
  error_description: z.string().nullable().optional(),
  created_at: UnixTime.optional(),
})

/** A parsed payment entity. */
export type RazorpayPaymentEntity = z.output<typeof RazorpayPaymentEntity>

/** An order, as the Orders API returns it and as `payload.order.entity` of a webhook carries it. */
export const RazorpayOrderEntity = z.looseObject({
  id: z.string().regex(/^order_\w+$/),
  entity: z.literal('order'),
  amount: Amount,
  amount_paid: Amount,
  amount_due: Amount,
  currency: z.string().regex(/^[A-Za-z]{3}$/),
  receipt: z.string().nullable(),
  offer_id: z.string().nullable().optional(),
  status: z.enum(['created', 'attempted', 'paid']),
  attempts: z.number().int().nonnegative(),
  notes: RazorpayNotes,
  created_at: UnixTime,
})

/** A parsed order entity. */
export type RazorpayOrderEntity = z.output<typeof RazorpayOrderEntity>

/** A refund snapshot in a webhook (`payload.refund.entity`), as the Refunds API answers it too. */
export const RazorpayRefundEntity = z.looseObject({
  id: z.string().regex(/^rfnd_\w+$/),
  entity: z.literal('refund').optional(),
  amount: Amount,
  currency: z.string().regex(/^[A-Za-z]{3}$/),
  payment_id: z.string().regex(/^pay_\w+$/),
  status: z.string().min(1),
  created_at: UnixTime.optional(),
})

/** The event types Tollgate acts on; any other type is recorded and acknowledged. */
export const HANDLED_RAZORPAY_EVENTS = [
  'payment.captured',
  'order.paid',
  'payment.failed',
  'refund.created',
  'refund.processed',
  'refund.failed',
] as const

const needsPayment = new Set<string>(['payment.captured', 'payment.failed', 'order.paid'])
const needsOrder = new Set<string>(['order.paid'])
const needsRefund = new Set<string>(['refund.created', 'refund.processed', 'refund.failed'])

/**
 * A Razorpay webhook body: `{entity: 'event', account_id, event, contains, payload, created_at}`.
 * `payload.payment.entity` is required for payment.* and order.paid, `payload.order.entity` for
 * order.paid; other payload entries (subscription, ...) pass through. There is no event id in the
 * body: it is the `x-razorpay-event-id` header.
 */
export const RazorpayWebhookEvent = z
  .looseObject({
    entity: z.literal('event').optional(),
    account_id: z.string().optional(),
    event: z.string().regex(/^[a-z_]+(\.[a-z_]+)+$/),
    contains: z.array(z.string()).optional(),
    payload: z.looseObject({
      payment: z.looseObject({ entity: RazorpayPaymentEntity }).optional(),
      order: z.looseObject({ entity: RazorpayOrderEntity }).optional(),
      refund: z.looseObject({ entity: RazorpayRefundEntity }).optional(),
    }),
    // Missing in one official sample (subscription.activated, immediate start).
    created_at: UnixTime.optional(),
  })
  .superRefine((event, ctx) => {
    if (needsPayment.has(event.event) && event.payload.payment === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['payload', 'payment'],
        message: `${event.event} carries the payment`,
      })
    }
    if (needsRefund.has(event.event) && event.payload.refund === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['payload', 'refund'],
        message: `${event.event} carries the refund`,
      })
    }
    if (needsOrder.has(event.event) && event.payload.order === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['payload', 'order'],
        message: `${event.event} carries the order`,
      })
    }
  })

/** A parsed webhook body. */
export type RazorpayWebhookEvent = z.output<typeof RazorpayWebhookEvent>

/** A webhook body that parsed: the typed event and the JSON value as sent (for the ledger). */
export type ParsedRazorpayWebhook = { event: RazorpayWebhookEvent; json: unknown }

/** Why a webhook body was refused: not JSON, or not a Razorpay event. */
export type RazorpayWebhookProblem = {
  reason: 'json' | 'shape'
  issues: { path: string; message: string }[]
}

/** Parses a verified webhook body; never throws. */
export const parseRazorpayWebhook = (
  body: string,
): { ok: true; value: ParsedRazorpayWebhook } | { ok: false; problem: RazorpayWebhookProblem } => {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    return { ok: false, problem: { reason: 'json', issues: [{ path: '', message: 'not JSON' }] } }
  }
  const parsed = RazorpayWebhookEvent.safeParse(json)
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      path: issue.path.map(String).join('.'),
      message: issue.message,
    }))
    return { ok: false, problem: { reason: 'shape', issues } }
  }
  return { ok: true, value: { event: parsed.data, json } }
}
