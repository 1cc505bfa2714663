import type Stripe from 'stripe'
import { ApiError } from '../../../core/src/http.ts'
import {
  idempotencyKey,
  providerError,
  stripeClientFor,
  stripeFailureOf,
  type StripeEnv,
} from './client.ts'

/** The Stripe client the steps below take (made by `stripeClientFor`). */
export type StripeClient = Stripe

/** A Stripe event as the SDK types it. */
export type StripeEvent = Stripe.Event

/** A JSON object as Stripe answered it. */
type StripeJson = Record<string, unknown>

/** What a Stripe step needs of a Tollgate plan. */
export type StripePlan = { id: string; stripe_price_id: string | null; trial_days: number }

/** A Tollgate coupon as prepare_checkout answers it. */
export type StripeCheckoutCoupon = {
  code: string
  percent_off: number | null
  amount_off: number | null
  currency: string | null
  stripe_coupon_id: string | null
  /** How long the discount lasts on a subscription (Stripe's duration); absent = once. */
  duration?: 'once' | 'repeating' | 'forever'
  /** Months a repeating discount lasts. */
  duration_in_months?: number | null
  /** The end of the coupon's window (ISO time): the Stripe coupon's redeem_by. */
  valid_until?: string | null
}

// `missing`: the code for Stripe's resource_missing when the id came from the caller (404, not
// 502); any other Stripe failure is PROVR (502), errors of ours pass as they are.
const step = async <T>(call: () => Promise<T>, missing?: 'NOTFD'): Promise<T> => {
  try {
    return await call()
  } catch (error) {
    if (missing && stripeFailureOf(error)?.code === 'resource_missing') {
      throw new ApiError(missing, { details: { provider: 'stripe' }, cause: error })
    }
    throw providerError(error)
  }
}

/** The plan's Stripe price; ApiError PLINA when the plan has none. */
export const stripePriceOf = (plan: Pick<StripePlan, 'stripe_price_id'>): string => {
  if (!plan.stripe_price_id)
    throw new ApiError('PLINA', { message: 'This plan has no Stripe price' })
  return plan.stripe_price_id
}

/**
 * Expires the user's older Checkout Sessions still open at Stripe (a second tab, an abandoned
 * checkout), so only the new one can be paid; answers the ids expired. A session completed in the
 * meantime (paid, its subscription not applied yet) refuses the new checkout with HASUB. The client
 * is made only when there is a session to expire (a Razorpay checkout needs Stripe only then).
 */
export const expireOpenSessions = (env: StripeEnv, sessionIds: string[]): Promise<string[]> =>
  step(async () => {
    if (sessionIds.length === 0) return []
    const stripe = stripeClientFor(env)
    const expired: string[] = []
    for (const id of sessionIds) {
      try {
        await stripe.checkout.sessions.expire(
          id,
          {},
          { idempotencyKey: idempotencyKey('expire', id) },
        )
        expired.push(id)
        continue
      } catch (error) {
        // Stripe refuses to expire a session that is not open: find out what it is.
        if (stripeFailureOf(error)?.status !== 400) throw error
      }
      const session = await stripe.checkout.sessions.retrieve(id)
      if (session.status === 'complete') {
        throw new ApiError('HASUB', {
          message: 'A checkout you completed is still being applied',
          details: { session_id: id },
          hint: 'Wait for it to be applied, then change plans if you need to.',
        })
      }
      if (session.status === 'expired') expired.push(id)
    }
    return expired
  })

/**
 * The Stripe coupon's parameters for a Tollgate coupon, and its id, which names every term Stripe
 * cannot change afterwards (discount, duration, redeem_by): a coupon whose terms changed gets a
 * new Stripe coupon instead of reusing one made with other terms.
 */
export const stripeCouponParams = (
  coupon: StripeCheckoutCoupon,
): Stripe.CouponCreateParams & { id: string } => {
  const duration = coupon.duration ?? 'once'
  const months = duration === 'repeating' ? (coupon.duration_in_months ?? null) : null
  const redeemBy = coupon.valid_until ? Math.floor(Date.parse(coupon.valid_until) / 1000) : null
  const discount = coupon.percent_off !== null
    ? `${coupon.percent_off}pct`
    : `${coupon.amount_off ?? 0}${coupon.currency ?? 'usd'}`
  const id = [
    'tollgate',
    coupon.code,
    `${duration}${months ?? ''}`,
    discount,
    ...(redeemBy !== null ? [`until${redeemBy}`] : []),
  ].join('_')
  return {
    id,
    duration,
    ...(months !== null ? { duration_in_months: months } : {}),
    ...(coupon.percent_off !== null
      ? { percent_off: coupon.percent_off }
      : { amount_off: coupon.amount_off ?? 0, currency: coupon.currency ?? 'usd' }),
    ...(redeemBy !== null ? { redeem_by: redeemBy } : {}),
    metadata: { tollgate_coupon_code: coupon.code },
  }
}

// A Tollgate coupon becomes a Stripe coupon on its first Stripe checkout (then stripe_coupon_id).
const stripeCouponFor = async (stripe: Stripe, coupon: StripeCheckoutCoupon): Promise<string> => {
  if (coupon.stripe_coupon_id) return coupon.stripe_coupon_id
  const params = stripeCouponParams(coupon)
  const id = params.id
  const created = await stripe.coupons
    .create(params, { idempotencyKey: idempotencyKey('coupon', id) })
    .catch(async (error: unknown) => {
      // Made by an earlier checkout whose record was lost: it is ours, use it.
      if ((error as { code?: unknown }).code === 'resource_already_exists') {
        return stripe.coupons.retrieve(id)
      }
      throw error
    })
  return created.id
}

/** What `createStripeCheckout` needs: the checkout prepare_checkout reserved, the return URLs. */
export type StripeCheckoutInput = {
  userId: string
  email: string | undefined
  checkoutId: string
  plan: StripePlan
  /** The user's Stripe customer, or null to create one. */
  customerId: string | null
  coupon: StripeCheckoutCoupon | null
  successUrl: string
  cancelUrl: string
}

/** A created Checkout Session, with the customer and Stripe coupon it used. */
export type StripeCheckout = {
  sessionId: string
  url: string | null
  customerId: string
  /** The Stripe coupon applied, or null without a coupon. */
  stripeCouponId: string | null
}

/** The user's Stripe customer: the one recorded, else one created once (keyed on the user). */
const customerFor = async (
  stripe: Stripe,
  input: { customerId: string | null; email: string | undefined; userId: string },
): Promise<string> =>
  input.customerId ??
  (
    await stripe.customers.create(
      {
        ...(input.email !== undefined ? { email: input.email } : {}),
        metadata: { user_id: input.userId },
      },
      { idempotencyKey: idempotencyKey('customer', input.userId) },
    )
  ).id

/**
 * Opens a subscription Checkout Session (creating the customer and the coupon at Stripe when
 * needed), keyed on the Tollgate checkout id; PLINA without a price, PROVR when Stripe fails.
 */
export const createStripeCheckout = (
  stripe: Stripe,
  input: StripeCheckoutInput,
): Promise<StripeCheckout> =>
  step(async () => {
    const customerId = await customerFor(stripe, input)
    const stripeCoupon = input.coupon ? await stripeCouponFor(stripe, input.coupon) : null
    const session = await stripe.checkout.sessions.create(
      {
        mode: 'subscription',
        customer: customerId,
        client_reference_id: input.userId,
        line_items: [{ price: stripePriceOf(input.plan), quantity: 1 }],
        subscription_data: {
          metadata: { user_id: input.userId, plan_id: input.plan.id },
          ...(input.plan.trial_days > 0 ? { trial_period_days: input.plan.trial_days } : {}),
        },
        metadata: {
          user_id: input.userId,
          plan_id: input.plan.id,
          tollgate_checkout_id: input.checkoutId,
        },
        ...(stripeCoupon ? { discounts: [{ coupon: stripeCoupon }] } : {}),
        success_url: input.successUrl,
        cancel_url: input.cancelUrl,
      },
      { idempotencyKey: idempotencyKey('checkout', input.checkoutId) },
    )
    return { sessionId: session.id, url: session.url, customerId, stripeCouponId: stripeCoupon }
  })

/** A Checkout Session as SQL applies it: `subscription` is an id, the object comes beside it. */
export type RetrievedStripeCheckout = { session: StripeJson; subscription: StripeJson | null }

/** Reads a Checkout Session with its subscription; NOTFD when Stripe has no such session. */
export const retrieveStripeCheckout = (
  stripe: Stripe,
  sessionId: string,
): Promise<RetrievedStripeCheckout> =>
  step(async () => {
    const session = await stripe.checkout.sessions.retrieve(sessionId, { expand: ['subscription'] })
    const { subscription, ...rest } = session as unknown as StripeJson & { subscription: unknown }
    const expanded =
      typeof subscription === 'object' && subscription !== null
        ? (subscription as StripeJson)
        : null
    return {
      session: { ...rest, subscription: expanded ? expanded.id : subscription },
      subscription: expanded,
    }
  }, 'NOTFD')

/** What `changeStripePlan` needs; `attempt` is the live row's `updated_at`. */
export type StripePlanChange = {
  userId: string
  planId: string
  subscriptionId: string
  price: string
  attempt: string
}

/** Moves the subscription's item to the new price, prorated; answers Stripe's subscription. */
export const changeStripePlan = (
  stripe: Stripe,
  change: StripePlanChange,
): Promise<Stripe.Subscription> =>
  step(async () => {
    const current = await stripe.subscriptions.retrieve(change.subscriptionId)
    const item = current.items.data[0]
    if (!item) throw new ApiError('BADEV', { message: 'The Stripe subscription has no item' })
    // One key per attempt, like cancel/resume: the live row changes with every applied change, so
    // A -> B -> A within Stripe's 24 h is three updates, while a retry of one attempt is replayed.
    return stripe.subscriptions.update(
      change.subscriptionId,
      {
        items: [{ id: item.id, price: change.price }],
        proration_behavior: 'create_prorations',
        metadata: { user_id: change.userId, plan_id: change.planId },
      },
      {
        idempotencyKey: idempotencyKey(
          'change-plan',
          change.subscriptionId,
          item.id,
          change.price,
          change.attempt,
        ),
      },
    )
  })

/**
 * Cancels the subscription at the end of its period (`cancel`) or takes that back; one
 * Idempotency-Key per attempt (`attempt` is the live row's `updated_at`).
 */
export const setStripeCancelAtPeriodEnd = (
  stripe: Stripe,
  request: { subscriptionId: string; cancel: boolean; attempt: string },
): Promise<Stripe.Subscription> =>
  step(() =>
    stripe.subscriptions.update(
      request.subscriptionId,
      { cancel_at_period_end: request.cancel },
      {
        idempotencyKey: idempotencyKey(
          request.cancel ? 'cancel' : 'resume',
          request.subscriptionId,
          request.attempt,
        ),
      },
    ),
  )

/** Cancels the subscription at once (a switch to the free plan); answers Stripe's subscription. */
export const cancelStripeSubscriptionNow = (
  stripe: Stripe,
  subscriptionId: string,
): Promise<Stripe.Subscription> =>
  step(() =>
    stripe.subscriptions.cancel(subscriptionId, undefined, {
      idempotencyKey: idempotencyKey('switch-to-free', subscriptionId),
    }),
  )

/**
 * Cancels the subscription at once because its user deletes their account, with one
 * Idempotency-Key per subscription (a retried deletion is replayed by Stripe, not a second call);
 * a subscription Stripe no longer has is not billed either. PROVR when Stripe fails.
 */
export const cancelStripeSubscriptionForDeletion = (
  stripe: Stripe,
  subscriptionId: string,
): Promise<void> =>
  step(async () => {
    try {
      await stripe.subscriptions.cancel(subscriptionId, undefined, {
        idempotencyKey: idempotencyKey('delete-account', subscriptionId),
      })
    } catch (error) {
      if (stripeFailureOf(error)?.code === 'resource_missing') return
      throw error
    }
  })

/**
 * Expires the Checkout Sessions a user deleting their account may still pay (so nothing starts
 * billing them afterwards); answers the subscriptions of sessions completed meanwhile, which must
 * be cancelled too, and the sessions that are expired (closed unpaid: their coupon uses go back).
 * A session Stripe does not have is skipped. PROVR when Stripe fails.
 */
export const closeStripeCheckoutsForDeletion = (
  stripe: Stripe,
  sessionIds: string[],
): Promise<{ subscriptions: string[]; expired: string[] }> =>
  step(async () => {
    const subscriptions: string[] = []
    const expired: string[] = []
    for (const id of sessionIds) {
      try {
        await stripe.checkout.sessions.expire(id, {}, { idempotencyKey: idempotencyKey('expire', id) })
        expired.push(id)
        continue
      } catch (error) {
        // Stripe refuses to expire a session that is not open: find out what it is.
        if (stripeFailureOf(error)?.status !== 400) throw error
      }
      let session: Stripe.Checkout.Session
      try {
        session = await stripe.checkout.sessions.retrieve(id)
      } catch (error) {
        if (stripeFailureOf(error)?.code === 'resource_missing') continue
        throw error
      }
      const subscription = session.subscription
      if (session.status === 'complete' && subscription) {
        subscriptions.push(typeof subscription === 'string' ? subscription : subscription.id)
      } else if (session.status === 'expired') {
        expired.push(id)
      }
    }
    return { subscriptions, expired }
  })

/** Opens a Billing Portal session for the customer; answers its URL. */
export const createStripePortalSession = async (
  stripe: Stripe,
  request: { customerId: string; returnUrl: string },
): Promise<{ url: string }> => {
  const session = await step(() =>
    stripe.billingPortal.sessions.create({
      customer: request.customerId,
      return_url: request.returnUrl,
    }),
  )
  return { url: session.url }
}

/**
 * Stripe's current subscription (for a webhook to apply); Stripe's errors are thrown as they
 * are, so the webhook pipeline decides whether the provider retries.
 */
export const retrieveStripeSubscription = (
  stripe: Stripe,
  subscriptionId: string,
): Promise<Stripe.Subscription> => stripe.subscriptions.retrieve(subscriptionId)

/** What `createStripePurchaseCheckout` needs: the product checkout prepare_purchase priced. */
export type StripePurchaseInput = {
  userId: string
  email: string | undefined
  checkoutId: string
  product: { id: string; name: string }
  quantity: number
  /** The total after member discount and coupon, minor units (what SQL recorded). */
  amount: number
  currency: string
  /** The user's Stripe customer, or null to create one. */
  customerId: string | null
  couponCode: string | null
  successUrl: string
  cancelUrl: string
}

/**
 * Opens a payment-mode Checkout Session for a product, keyed on the Tollgate checkout id (a
 * retried request answers the same session); PROVR when Stripe fails.
 */
export const createStripePurchaseCheckout = (
  stripe: Stripe,
  input: StripePurchaseInput,
): Promise<StripeCheckout> =>
  step(async () => {
    const customerId = await customerFor(stripe, input)
    const metadata = {
      user_id: input.userId,
      product_id: input.product.id,
      quantity: String(input.quantity),
      tollgate_checkout_id: input.checkoutId,
      ...(input.couponCode ? { coupon_code: input.couponCode } : {}),
    }
    const session = await stripe.checkout.sessions.create(
      {
        mode: 'payment',
        customer: customerId,
        client_reference_id: input.userId,
        // One line whose amount is the total SQL priced and recorded (member discount and coupon
        // taken off the whole, rounded once), not the product's Stripe price x quantity with a
        // Stripe coupon: Stripe would round per its own rules, a member discount has no Stripe
        // form, and the payment is checked against the recorded amount to the minor unit.
        line_items: [
          {
            price_data: {
              currency: input.currency,
              unit_amount: input.amount,
              product_data: {
                name: input.quantity === 1 ? input.product.name : `${input.product.name} x ${input.quantity}`,
                metadata: { product_id: input.product.id },
              },
            },
            quantity: 1,
          },
        ],
        // On the PaymentIntent too: refunds and disputes arrive about the payment, not the session.
        payment_intent_data: { metadata },
        metadata,
        success_url: input.successUrl,
        cancel_url: input.cancelUrl,
      },
      { idempotencyKey: idempotencyKey('checkout', input.checkoutId) },
    )
    return { sessionId: session.id, url: session.url, customerId, stripeCouponId: null }
  })
/** What `refundStripePayment` needs: the payment intent, the amount, the request's key. */
export type StripeRefundInput = {
  paymentIntent: string
  amount: number
  /** The refund request's Idempotency-Key: a retried request is the same refund at Stripe. */
  idempotencyKey: string
  requestId: string
}

/**
 * Refunds `amount` of a payment intent (POST /v1/refunds) with the request's Idempotency-Key;
 * answers Stripe's refund. PROVR when Stripe refuses or fails.
 */
export const refundStripePayment = (
  stripe: Stripe,
  input: StripeRefundInput,
): Promise<Stripe.Refund> =>
  step(() =>
    stripe.refunds.create(
      {
        payment_intent: input.paymentIntent,
        amount: input.amount,
        metadata: { tollgate_refund_request_id: input.requestId },
      },
      { idempotencyKey: input.idempotencyKey },
    ),
  )
