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
import { dbFor, prepareAdminRefund, recordAdminRefund, type BillingEnv } from '../db.ts'

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
  const refund =
    prepared.provider === 'stripe'
      ? await refundStripePayment(stripeClientFor(env), {
          paymentIntent: prepared.payment_id,
          amount: Number(prepared.amount),
          idempotencyKey: prepared.idempotency_key,
          requestId: prepared.request_id,
        })
      : await refundRazorpayPayment(env, {
          paymentId: prepared.payment_id,
          amount: Number(prepared.amount),
          idempotencyKey: prepared.idempotency_key,
          requestId: prepared.request_id,
        })
  return c.json(await recordAdminRefund(db, prepared.request_id, refund))
})
