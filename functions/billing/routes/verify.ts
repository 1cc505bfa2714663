import { Hono } from 'hono'
import { envOf, parseJson, VerifyPaymentRequest } from '../../../packages/core/src/index.ts'
import { verifyRazorpayPayment } from '../../../packages/providers/razorpay/src/index.ts'
import {
  retrieveStripeCheckout,
  runProviderActions,
  stripeClientFor,
} from '../../../packages/providers/stripe/src/index.ts'
import {
  applyRazorpayOrder,
  applyStripeCheckout,
  applyStripePurchase,
  dbFor,
  type BillingEnv,
} from '../db.ts'

/**
 * POST /verify-payment: applies a payment the browser saw, before its webhook arrives; answers
 * `{subscription}` for a plan, `{purchase}` for a product.
 */
export const verify = new Hono<BillingEnv>()

verify.post('/verify-payment', async (c) => {
  const env = envOf(c.env)
  const user = c.get('user')
  const body = await parseJson(c, VerifyPaymentRequest)

  if (body.provider === 'stripe') {
    const stripe = stripeClientFor(env)
    const session = await retrieveStripeCheckout(stripe, body.session_id)
    const db = dbFor(env)
    // A product's payment-mode session: the purchase and its credits.
    if (session.session.mode === 'payment') {
      return c.json({ purchase: await applyStripePurchase(db, user, session.session) })
    }
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
  // {purchase} for a product's order, {subscription} for a plan's.
  return c.json(
    await applyRazorpayOrder(dbFor(env), user, {
      orderId: body.razorpay_order_id,
      paymentId: body.razorpay_payment_id,
    }),
  )
})
