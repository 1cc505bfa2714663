import { Hono } from 'hono'
import type * as z from 'zod'
import {
  CheckoutRequest,
  envOf,
  parseJson,
  redirectUrl,
  type AuthUser,
  type Env,
  type Json,
  type PreparedCheckout,
  type PreparedPurchase,
} from '../../../packages/core/src/index.ts'
import type { Db } from '../../../packages/db/src/client.ts'
import {
  createRazorpayCheckout,
  createRazorpayPurchaseCheckout,
} from '../../../packages/providers/razorpay/src/index.ts'
import {
  cancelStripeSubscriptionNow,
  createStripeCheckout,
  createStripePurchaseCheckout,
  expireOpenSessions,
  stripeClientFor,
} from '../../../packages/providers/stripe/src/index.ts'
import {
  applyStripeSubscription,
  dbFor,
  prepareCheckout,
  preparePurchase,
  recordCheckout,
  recordPurchaseCheckout,
  releaseCoupon,
  setLocalSubscription,
  type BillingEnv,
} from '../db.ts'

type PaidCheckout = Extract<PreparedCheckout, { kind: 'new' | 'renewal' }>
type Request = Extract<z.output<typeof CheckoutRequest>, { plan_id: string }>
type ProductRequest = Extract<z.output<typeof CheckoutRequest>, { product_id: string }>

/**
 * POST /checkout: a Stripe Checkout Session or a Razorpay order for a plan (or the free plan at
 * once), or for `quantity` units of a product.
 */
export const checkout = new Hono<BillingEnv>()

checkout.post('/checkout', async (c) => {
  const env = envOf(c.env)
  const user = c.get('user')
  const body = await parseJson(c, CheckoutRequest)
  // Redirect URLs the caller asked for are checked before anything is reserved.
  if (body.provider === 'stripe' && body.success_url !== undefined) {
    redirectUrl(env, body.success_url, 'success')
  }
  if (body.provider === 'stripe' && body.cancel_url !== undefined) {
    redirectUrl(env, body.cancel_url, 'cancel')
  }
  const db = dbFor(env)
  if ('product_id' in body) return c.json(await purchase(env, db, user, body))
  const prepared = await prepareCheckout(db, user, body)
  // A free plan needs no payment (nor the provider, unless a Stripe subscription must end).
  if (prepared.kind === 'free') {
    return c.json({ subscription: await switchToFree(env, db, user, prepared.live) })
  }
  try {
    // At most one checkout of a user can be paid: their older open sessions are expired first.
    const expired = await expireOpenSessions(env, prepared.open_sessions)
    // A provider that is not configured fails here (NOCFG), and the catch gives the coupon back.
    return c.json(
      body.provider === 'stripe'
        ? await withStripe(env, db, user, body, prepared, expired)
        : await withRazorpay(env, db, user, prepared, expired),
    )
  } catch (error) {
    // Nothing was sold: the coupon use goes back before we answer.
    await releaseCoupon(db, prepared.checkout_id)
    throw error
  }
})

const withStripe = async (
  env: Env,
  db: Db,
  user: AuthUser,
  body: Request,
  prepared: PaidCheckout,
  expired: string[],
) => {
  const stripe = stripeClientFor(env)
  const session = await createStripeCheckout(stripe, {
    userId: user.id,
    email: typeof user.claims.email === 'string' ? user.claims.email : undefined,
    checkoutId: prepared.checkout_id,
    plan: prepared.plan,
    customerId: prepared.customer_id,
    coupon: prepared.coupon,
    successUrl: redirectUrl(env, body.success_url, 'success'),
    cancelUrl: redirectUrl(env, body.cancel_url, 'cancel'),
  })
  await recordCheckout(db, user, {
    provider: 'stripe',
    providerId: session.sessionId,
    checkoutId: prepared.checkout_id,
    planId: prepared.plan.id,
    amount: prepared.amount,
    currency: prepared.currency,
    extra: {
      customer_id: session.customerId,
      expired_sessions: expired,
      ...(prepared.coupon && session.stripeCouponId
        ? { coupon_code: prepared.coupon.code, stripe_coupon_id: session.stripeCouponId }
        : {}),
    },
  })
  return { provider: 'stripe', session_id: session.sessionId, url: session.url }
}

const withRazorpay = async (
  env: Env,
  db: Db,
  user: AuthUser,
  prepared: PaidCheckout,
  expired: string[],
) => {
  const order = await createRazorpayCheckout(env, {
    userId: user.id,
    planId: prepared.plan.id,
    checkoutId: prepared.checkout_id,
    amount: prepared.amount,
    currency: prepared.currency,
  })
  await recordCheckout(db, user, {
    provider: 'razorpay',
    providerId: order.orderId,
    checkoutId: prepared.checkout_id,
    planId: prepared.plan.id,
    amount: prepared.amount,
    currency: prepared.currency,
    extra: { expired_sessions: expired },
  })
  return {
    provider: 'razorpay',
    order_id: order.orderId,
    amount: order.amount,
    currency: order.currency,
    key_id: order.keyId,
  }
}

// A product: priced and its coupon reserved in SQL, then a payment-mode session or an order for
// exactly that amount. A purchase stops no other checkout: no open session is expired for it.
const purchase = async (env: Env, db: Db, user: AuthUser, body: ProductRequest) => {
  const prepared = await preparePurchase(db, user, body)
  try {
    return body.provider === 'stripe'
      ? await purchaseWithStripe(env, db, user, body, prepared)
      : await purchaseWithRazorpay(env, db, user, prepared)
  } catch (error) {
    // Nothing was sold: the coupon use goes back before we answer.
    await releaseCoupon(db, prepared.checkout_id)
    throw error
  }
}

const purchaseWithStripe = async (
  env: Env,
  db: Db,
  user: AuthUser,
  body: ProductRequest,
  prepared: PreparedPurchase,
) => {
  const session = await createStripePurchaseCheckout(stripeClientFor(env), {
    userId: user.id,
    email: typeof user.claims.email === 'string' ? user.claims.email : undefined,
    checkoutId: prepared.checkout_id,
    product: prepared.product,
    quantity: prepared.quantity,
    amount: prepared.amount,
    currency: prepared.currency,
    customerId: prepared.customer_id,
    couponCode: prepared.coupon?.code ?? null,
    successUrl: redirectUrl(env, body.success_url, 'success'),
    cancelUrl: redirectUrl(env, body.cancel_url, 'cancel'),
  })
  await recordPurchaseCheckout(db, user, {
    provider: 'stripe',
    providerId: session.sessionId,
    prepared,
    extra: {
      customer_id: session.customerId,
      ...(prepared.coupon ? { coupon_code: prepared.coupon.code } : {}),
    },
  })
  return { provider: 'stripe', session_id: session.sessionId, url: session.url }
}

const purchaseWithRazorpay = async (
  env: Env,
  db: Db,
  user: AuthUser,
  prepared: PreparedPurchase,
) => {
  const order = await createRazorpayPurchaseCheckout(env, {
    userId: user.id,
    productId: prepared.product.id,
    quantity: prepared.quantity,
    checkoutId: prepared.checkout_id,
    amount: prepared.amount,
    currency: prepared.currency,
  })
  await recordPurchaseCheckout(db, user, {
    provider: 'razorpay',
    providerId: order.orderId,
    prepared,
    extra: prepared.coupon ? { coupon_code: prepared.coupon.code } : {},
  })
  return {
    provider: 'razorpay',
    order_id: order.orderId,
    amount: order.amount,
    currency: order.currency,
    key_id: order.keyId,
  }
}

// Ends the live subscription: at Stripe at once when Stripe bills it, else in SQL alone.
const switchToFree = async (env: Env, db: Db, user: AuthUser, live: Json | null) => {
  if (live?.provider !== 'stripe') return setLocalSubscription(db, user, 'end')
  const canceled = await cancelStripeSubscriptionNow(
    stripeClientFor(env),
    String(live.provider_subscription_id),
  )
  // Canceled now, so no longer live: read it back by its id.
  return applyStripeSubscription(db, user, canceled, 'switch-to-free', { id: String(live.id) })
}
