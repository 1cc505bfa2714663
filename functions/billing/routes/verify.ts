import { Hono } from 'hono'
import { envOf, parseJson, VerifyPaymentRequest } from '../../../packages/core/src/index.ts'
import { verifyRazorpayPayment } from '../../../packages/providers/razorpay/src/index.ts'
import {
  retrieveStripeCheckout,
  runProviderActions,
  stripeClientFor,
} from '../../../packages/providers/stripe/src/index.ts'
import { applyRazorpayPayment, applyStripeCheckout, dbFor, type BillingEnv } from '../db.ts'

/** POST /verify-payment: applies a payment the browser saw, before its webhook arrives. */
export const verify = new Hono<BillingEnv>()

verify.post('/verify-payment', async (c) => {
  const env = envOf(c.env)
  const user = c.get('user')
  const body = await parseJson(c, VerifyPaymentRequest)

  if (body.provider === 'stripe') {
    const stripe = stripeClientFor(env)
    const session = await retrieveStripeCheckout(stripe, body.session_id)
    const db = dbFor(env)
    const subscription = await applyStripeCheckout(db, user, session)
    // A second live subscription is canceled at Stripe now, not at the next webhook.
    await runProviderActions(db, stripe)
    return c.json({ subscription })
  }

  await verifyRazorpayPayment(env, {
    orderId: body.razorpay_order_id,
    paymentId: body.razorpay_payment_id,
    signature: body.razorpay_signature,
  })
  const subscription = await applyRazorpayPayment(dbFor(env), user, {
    orderId: body.razorpay_order_id,
    paymentId: body.razorpay_payment_id,
  })
  return c.json({ subscription })
})
