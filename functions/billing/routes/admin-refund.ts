import { Hono } from 'hono'
import {
  AdminRefundRequest,
  ApiError,
  envOf,
  parseJson,
  RefundIdempotencyKey,
  requireAdmin,
} from '../../../packages/core/src/index.ts'
import { refundRazorpayPayment } from '../../../packages/providers/razorpay/src/index.ts'
import {
  refundStripePayment,
  stripeClientFor,
} from '../../../packages/providers/stripe/src/index.ts'
import {
  dbFor,
  failAdminRefund,
  prepareAdminRefund,
  recordAdminRefund,
  type BillingEnv,
} from '../db.ts'

const refusedByProvider = (error: unknown): boolean => {
  if (!(error instanceof ApiError) || error.code !== 'PROVR') return false
  const status = (error.details as { status?: unknown } | null)?.status
  // 409 (a concurrent request with the key) and 429 say nothing about the refund itself.
  return status === 400 || status === 402 || status === 404
}

/** POST /admin/refund: an admin refunds an invoice or a purchase at its provider. */
export const adminRefund = new Hono<BillingEnv>()

adminRefund.post('/admin/refund', requireAdmin<BillingEnv>(), async (c) => {
  const env = envOf(c.env)
  const user = c.get('user')
  const key = RefundIdempotencyKey.safeParse(c.req.header('idempotency-key'))
  if (!key.success) throw new ApiError('BADKY')
  const body = await parseJson(c, AdminRefundRequest)
  const db = dbFor(env)
  // The request row comes first: its key is what the provider sees, so a retry after a crash
  // (or a lost answer) is the same refund there, and one already recorded is answered from SQL.
  const prepared = await prepareAdminRefund(db, user, body, key.data)
  if (prepared.answer) return c.json(prepared.answer)
  const input = {
    amount: Number(prepared.amount),
    idempotencyKey: prepared.idempotency_key,
    requestId: prepared.request_id,
  }
  let refund: unknown
  try {
    refund =
      prepared.provider === 'stripe'
        ? await refundStripePayment(stripeClientFor(env), { ...input, paymentIntent: prepared.payment_id })
        : await refundRazorpayPayment(env, { ...input, paymentId: prepared.payment_id })
  } catch (error) {
    // A 4xx from the provider refunded nothing: the request no longer holds its amount. A timeout
    // or 5xx may have refunded: the request stays, and a retry sends the same key.
    if (refusedByProvider(error)) {
      await failAdminRefund(db, prepared.request_id, JSON.stringify((error as ApiError).details))
    }
    throw error
  }
  return c.json(await recordAdminRefund(db, prepared.request_id, refund))
})
