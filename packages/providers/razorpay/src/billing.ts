import { ApiError } from '../../../core/src/http.ts'
import { createRazorpayOrder, type RazorpayApiEnv, type RazorpayRequestOptions } from './orders.ts'
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
export const createRazorpayCheckout = async (
  env: RazorpayApiEnv,
  input: RazorpayCheckoutInput,
  options: RazorpayRequestOptions = {},
): Promise<RazorpayCheckout> => {
  const keyId = setting(env, 'RAZORPAY_KEY_ID')
  setting(env, 'RAZORPAY_KEY_SECRET')
  const order = await createRazorpayOrder(
    env,
    {
      amount: input.amount,
      currency: input.currency.toUpperCase(),
      receipt: input.checkoutId,
      notes: {
        user_id: input.userId,
        plan_id: input.planId,
        tollgate_checkout_id: input.checkoutId,
      },
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
export const createRazorpayPurchaseCheckout = async (
  env: RazorpayApiEnv,
  input: RazorpayPurchaseInput,
  options: RazorpayRequestOptions = {},
): Promise<RazorpayCheckout> => {
  const keyId = setting(env, 'RAZORPAY_KEY_ID')
  setting(env, 'RAZORPAY_KEY_SECRET')
  const order = await createRazorpayOrder(
    env,
    {
      amount: input.amount,
      currency: input.currency.toUpperCase(),
      receipt: input.checkoutId,
      notes: {
        user_id: input.userId,
        product_id: input.productId,
        quantity: String(input.quantity),
        tollgate_checkout_id: input.checkoutId,
      },
    },
    options,
  )
  return { orderId: order.id, amount: order.amount, currency: order.currency, keyId }
}
