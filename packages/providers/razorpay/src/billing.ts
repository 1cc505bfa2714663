import * as z from 'zod'
import { ApiError } from '../../../core/src/http.ts'
import {
  createRazorpayOrder,
  RAZORPAY_API_BASE,
  type RazorpayApiEnv,
  type RazorpayRequestOptions,
} from './orders.ts'
import { verifyPaymentSignature } from './signature.ts'

// NOCFG (503) naming the variable, before anything is sent to Razorpay.
const setting = (env: RazorpayApiEnv, name: keyof RazorpayApiEnv): string => {
  const value = env[name]
  if (value === undefined || value === null) {
    throw new ApiError('NOCFG', { details: { missing: name } })
  }
  return value
}

/** What `createRazorpayCheckout` needs: the checkout prepare_checkout reserved. */
export type RazorpayCheckoutInput = {
  userId: string
  planId: string
  checkoutId: string
  /** Minor units. */
  amount: number
  /** Any case; Razorpay is sent upper-case. */
  currency: string
}

/** What the browser needs to open Razorpay Checkout on the order. */
export type RazorpayCheckout = { orderId: string; amount: number; currency: string; keyId: string }

/**
 * Creates the Razorpay order of a checkout (its receipt is the Tollgate checkout id); NOCFG without
 * the key id or secret, PROVR when Razorpay fails.
 */
export const createRazorpayCheckout = (
  env: RazorpayApiEnv,
  input: RazorpayCheckoutInput,
  options: RazorpayRequestOptions = {},
): Promise<RazorpayCheckout> => openOrder(env, input, { plan_id: input.planId }, options)

/** The order of a checkout (receipt and notes carry the Tollgate checkout id and the user). */
const openOrder = async (
  env: RazorpayApiEnv,
  input: { userId: string; checkoutId: string; amount: number; currency: string },
  notes: Record<string, string>,
  options: RazorpayRequestOptions,
): Promise<RazorpayCheckout> => {
  const keyId = setting(env, 'RAZORPAY_KEY_ID')
  setting(env, 'RAZORPAY_KEY_SECRET')
  const order = await createRazorpayOrder(
    env,
    {
      amount: input.amount,
      currency: input.currency.toUpperCase(),
      receipt: input.checkoutId,
      notes: { user_id: input.userId, ...notes, tollgate_checkout_id: input.checkoutId },
    },
    options,
  )
  return { orderId: order.id, amount: order.amount, currency: order.currency, keyId }
}

/** What Razorpay Checkout hands the browser after a payment. */
export type RazorpayPaymentProof = { orderId: string; paymentId: string; signature: string }

/**
 * Checks the payment signature Razorpay Checkout returned with the key secret; NOCFG without the
 * secret, BADSG when it does not match.
 */
export const verifyRazorpayPayment = async (
  env: RazorpayApiEnv,
  proof: RazorpayPaymentProof,
): Promise<void> => {
  const valid = await verifyPaymentSignature({
    orderId: proof.orderId,
    paymentId: proof.paymentId,
    signature: proof.signature,
    keySecret: setting(env, 'RAZORPAY_KEY_SECRET'),
  })
  if (!valid) throw new ApiError('BADSG', { message: 'The payment signature does not match' })
}

/** What `createRazorpayPurchaseCheckout` needs: the product checkout prepare_purchase priced. */
export type RazorpayPurchaseInput = {
  userId: string
  productId: string
  quantity: number
  checkoutId: string
  /** Minor units, after member discount and coupon. */
  amount: number
  /** Any case; Razorpay is sent upper-case. */
  currency: string
}

/**
 * Creates the Razorpay order of a product checkout (receipt: the Tollgate checkout id; notes
 * user_id, product_id, quantity); NOCFG without the key id or secret, PROVR when Razorpay fails.
 */
export const createRazorpayPurchaseCheckout = (
  env: RazorpayApiEnv,
  input: RazorpayPurchaseInput,
  options: RazorpayRequestOptions = {},
): Promise<RazorpayCheckout> =>
  openOrder(env, input, { product_id: input.productId, quantity: String(input.quantity) }, options)

/** A refund as Razorpay's Refunds API answers it (the fields Tollgate reads). */
export const RazorpayRefund = z.looseObject({
  id: z.string().startsWith('rfnd_'),
  entity: z.literal('refund'),
  amount: z.number().int(),
  currency: z.string(),
  payment_id: z.string(),
  status: z.enum(['pending', 'processed', 'failed']),
  created_at: z.number().int(),
})

/** A created refund. */
export type RazorpayRefund = z.output<typeof RazorpayRefund>

/** What `refundRazorpayPayment` needs: the payment, the amount, the request's key. */
export type RazorpayRefundInput = {
  paymentId: string
  amount: number
  /** Sent as X-Refund-Idempotency: a retried request is the same refund at Razorpay. */
  idempotencyKey: string
  requestId: string
}

/**
 * Refunds `amount` of a captured payment (POST /v1/payments/:id/refund) with the request's
 * X-Refund-Idempotency key; NOCFG without the keys, PROVR when Razorpay refuses or fails.
 */
export const refundRazorpayPayment = async (
  env: RazorpayApiEnv,
  input: RazorpayRefundInput,
  options: RazorpayRequestOptions = {},
): Promise<RazorpayRefund> => {
  const keyId = setting(env, 'RAZORPAY_KEY_ID')
  const keySecret = setting(env, 'RAZORPAY_KEY_SECRET')
  const base = (env.RAZORPAY_API_BASE ?? RAZORPAY_API_BASE).replace(/\/+$/, '')
  const failed = (message: string, details: Record<string, unknown>, cause?: unknown) =>
    new ApiError('PROVR', { message, details: { provider: 'razorpay', ...details }, cause })
  let response: Response
  try {
    response = await (options.fetch ?? globalThis.fetch)(
      `${base}/v1/payments/${encodeURIComponent(input.paymentId)}/refund`,
      {
        method: 'POST',
        headers: {
          authorization: `Basic ${btoa(`${keyId}:${keySecret}`)}`,
          'content-type': 'application/json',
          accept: 'application/json',
          'x-refund-idempotency': input.idempotencyKey,
        },
        body: JSON.stringify({
          amount: input.amount,
          speed: 'normal',
          notes: { tollgate_refund_request_id: input.requestId },
        }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
      },
    )
  } catch (cause) {
    throw failed('Razorpay could not be reached', { status: null }, cause)
  }
  const body: unknown = await response.json().catch(() => null)
  if (!response.ok) {
    const error = (body as { error?: { code?: unknown; description?: unknown } } | null)?.error
    throw failed('Razorpay refused the refund', {
      status: response.status,
      code: error?.code ?? null,
      description: error?.description ?? null,
    })
  }
  const refund = RazorpayRefund.safeParse(body)
  if (!refund.success) {
    throw failed('Razorpay answered with something that is not a refund', { status: response.status }, refund.error)
  }
  return refund.data
}
