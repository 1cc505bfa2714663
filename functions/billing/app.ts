import { Hono, type Context } from 'hono'
import {
  ApiError,
  authOptionsOf,
  browserAccess,
  CheckoutRequest,
  envOf,
  notFound,
  onError,
  parseJson,
  PlanChangeRequest,
  PortalRequest,
  redirectUrl,
  requireEnv,
  requireUser,
  VerifyPaymentRequest,
  type AuthEnv,
  type AuthUser,
  type Env,
  type Json,
  type PlanRow,
  type PreparedCheckout,
} from '../../packages/core/src/index.ts'
import { poolFor, type Db, type DbTx } from '../../packages/db/src/client.ts'
import { healthCheck } from '../../packages/db/src/health.ts'
import {
  idempotencyKey,
  providerError,
  runProviderActions,
  stripeClientFor,
  stripeFailureOf,
} from '../../packages/providers/stripe/src/index.ts'
import {
  createRazorpayOrder,
  verifyPaymentSignature,
} from '../../packages/providers/razorpay/src/index.ts'

type BillingEnv = AuthEnv & { Bindings: Record<string, string | undefined> | undefined }
type Stripe = ReturnType<typeof stripeClientFor>

const dbFor = (env: Env): Db => poolFor(env, { max: 5 })

// Every call below is one SQL function returning one JSON value.
const value = async <T>(rows: Promise<readonly { value?: unknown }[]>): Promise<T> =>
  ((await rows)[0]?.value ?? null) as T

// postgres.js sends a JS value as one jsonb parameter.
const asJson = (db: Db | DbTx, data: unknown) => db.json(data as Parameters<Db['json']>[0])

/**
 * ONE transaction: the change, made by Tollgate's SQL function as the owner, then the answer read
 * as the caller reads it through PostgREST (their role and claims, under RLS), so no provider id
 * from tollgate_private leaves the database. `idOf` finds the subscription in the write's result.
 */
const applyThenRead = (
  db: Db,
  user: AuthUser,
  write: (tx: DbTx) => Promise<readonly { value?: unknown }[]>,
  idOf: (written: Json | null) => unknown = (written) => written?.id,
): Promise<Json | null> =>
  db.begin(async (tx) => {
    const id = idOf(await value<Json | null>(write(tx)))
    if (typeof id !== 'string') return null
    await tx`select pg_catalog.set_config('role', 'authenticated', true),
      pg_catalog.set_config('request.jwt.claims', ${JSON.stringify(user.claims)}, true)`
    return value<Json | null>(
      tx`select to_jsonb(s) as value from tollgate.subscriptions s where s.id = ${id}`,
    )
  }) as Promise<Json | null>

// `missing`: the code for Stripe's resource_missing when the id came from the caller (404, not 502).
const provider = async <T>(call: () => Promise<T>, missing?: 'NOTFD'): Promise<T> => {
  try {
    return await call()
  } catch (error) {
    if (missing && stripeFailureOf(error)?.code === 'resource_missing') {
      throw new ApiError(missing, { details: { provider: 'stripe' }, cause: error })
    }
    throw providerError(error)
  }
}

/** The billing edge function: checkout, verify-payment, change-plan, cancel, resume, portal. */
export const app = new Hono<BillingEnv>().basePath('/billing')

app.onError(onError)
app.notFound(notFound)
// Before authentication: browsers' preflights carry no token; GET /billing is the uptime check.
app.use('*', browserAccess())
app.get('/', healthCheck(dbFor))
app.use(
  '*',
  requireUser<BillingEnv>((c) => authOptionsOf(envOf(c.env))),
)

app.post('/checkout', async (c) => {
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

  const prepared = await value<PreparedCheckout>(
    db`select tollgate_private.prepare_checkout(${user.id}, ${body.plan_id}, ${body.provider},
      ${body.coupon_code ?? null}, now()) as value`,
  )
  // A free plan needs no payment (nor the provider, unless a Stripe subscription must end).
  if (prepared.kind === 'free') {
    return c.json({ subscription: await switchToFree(env, db, user, prepared.live) })
  }

  const checkoutId = prepared.checkout_id
  try {
    // At most one checkout of a user can be paid: their older open sessions are expired first.
    const expiredSessions = await expireOpenSessions(env, prepared.open_sessions)
    // A provider that is not configured fails here (NOCFG), and the catch gives the coupon back.
    if (body.provider === 'stripe') {
      const stripe = stripeClientFor(env)
      const successUrl = redirectUrl(env, body.success_url, 'success')
      const cancelUrl = redirectUrl(env, body.cancel_url, 'cancel')
      const customerId =
        prepared.customer_id ??
        (
          await stripe.customers.create(
            {
              ...(typeof user.claims.email === 'string' ? { email: user.claims.email } : {}),
              metadata: { user_id: user.id },
            },
            { idempotencyKey: idempotencyKey('customer', user.id) },
          )
        ).id
      const stripeCoupon = prepared.coupon ? await stripeCouponFor(stripe, prepared.coupon) : null
      const session = await stripe.checkout.sessions.create(
        {
          mode: 'subscription',
          customer: customerId,
          client_reference_id: user.id,
          line_items: [{ price: priceOf(prepared.plan), quantity: 1 }],
          subscription_data: {
            metadata: { user_id: user.id, plan_id: prepared.plan.id },
            ...(prepared.plan.trial_days > 0
              ? { trial_period_days: prepared.plan.trial_days }
              : {}),
          },
          metadata: {
            user_id: user.id,
            plan_id: prepared.plan.id,
            tollgate_checkout_id: checkoutId,
          },
          ...(stripeCoupon ? { discounts: [{ coupon: stripeCoupon }] } : {}),
          success_url: successUrl,
          cancel_url: cancelUrl,
        },
        { idempotencyKey: idempotencyKey('checkout', checkoutId) },
      )
      const extra = {
        customer_id: customerId,
        expired_sessions: expiredSessions,
        ...(prepared.coupon && stripeCoupon
          ? { coupon_code: prepared.coupon.code, stripe_coupon_id: stripeCoupon }
          : {}),
      }
      await db`select tollgate_private.record_checkout(${user.id}, 'stripe', ${session.id},
        ${checkoutId}, ${prepared.plan.id}, ${prepared.amount}, ${prepared.currency},
        ${asJson(db, extra)})`
      return c.json({ provider: 'stripe', session_id: session.id, url: session.url })
    }

    requireEnv(env, 'RAZORPAY_KEY_ID')
    requireEnv(env, 'RAZORPAY_KEY_SECRET')
    const order = await createRazorpayOrder(env, {
      amount: prepared.amount,
      currency: prepared.currency.toUpperCase(),
      receipt: checkoutId,
      notes: { user_id: user.id, plan_id: prepared.plan.id, tollgate_checkout_id: checkoutId },
    })
    await db`select tollgate_private.record_checkout(${user.id}, 'razorpay', ${order.id},
      ${checkoutId}, ${prepared.plan.id}, ${prepared.amount}, ${prepared.currency},
      ${asJson(db, { expired_sessions: expiredSessions })})`
    return c.json({
      provider: 'razorpay',
      order_id: order.id,
      amount: order.amount,
      currency: order.currency,
      key_id: env.RAZORPAY_KEY_ID,
    })
  } catch (error) {
    // Nothing was sold: the coupon use goes back before we answer.
    await db`select tollgate_private.settle_coupon(${checkoutId}, false)`.catch(() => undefined)
    throw providerError(error)
  }
})

app.post('/verify-payment', async (c) => {
  const env = envOf(c.env)
  const user = c.get('user')
  const body = await parseJson(c, VerifyPaymentRequest)

  if (body.provider === 'stripe') {
    const stripe = stripeClientFor(env)
    const session = await provider(
      () => stripe.checkout.sessions.retrieve(body.session_id, { expand: ['subscription'] }),
      'NOTFD',
    )
    const { subscription, ...rest } = session as unknown as Json & { subscription: unknown }
    const expanded = typeof subscription === 'object' && subscription !== null ? subscription : null
    const sessionJson = { ...rest, subscription: expanded ? (expanded as Json).id : subscription }
    const db = dbFor(env)
    const applied = await applyThenRead(
      db,
      user,
      (tx) =>
        tx`select tollgate_private.apply_stripe_checkout_for(${user.id}, ${asJson(tx, sessionJson)},
          ${expanded ? asJson(tx, expanded) : null}) as value`,
    )
    // A second live subscription is canceled at Stripe now, not at the next webhook.
    await runProviderActions(db, stripe)
    return c.json({ subscription: applied })
  }

  const valid = await verifyPaymentSignature({
    orderId: body.razorpay_order_id,
    paymentId: body.razorpay_payment_id,
    signature: body.razorpay_signature,
    keySecret: requireEnv(env, 'RAZORPAY_KEY_SECRET'),
  })
  if (!valid) throw new ApiError('BADSG', { message: 'The payment signature does not match' })
  const db = dbFor(env)
  const subscription = await applyThenRead(
    db,
    user,
    (tx) =>
      tx`select tollgate_private.apply_razorpay_payment(${user.id}, ${body.razorpay_order_id},
        ${body.razorpay_payment_id}, null, 'verify', now()) as value`,
    (written) => written?.subscription_id,
  )
  return c.json({ subscription })
})

app.post('/change-plan', async (c) => {
  const env = envOf(c.env)
  const user = c.get('user')
  const body = await parseJson(c, PlanChangeRequest)
  const stripe = stripeClientFor(env)
  const db = dbFor(env)
  const change = await value<{ plan: PlanRow; live: Json }>(
    db`select tollgate_private.prepare_plan_change(${user.id}, ${body.plan_id}) as value`,
  )
  const subscriptionId = String(change.live.provider_subscription_id)
  const price = priceOf(change.plan)
  const updated = await provider(async () => {
    const current = await stripe.subscriptions.retrieve(subscriptionId)
    const item = current.items.data[0]
    if (!item) throw new ApiError('BADEV', { message: 'The Stripe subscription has no item' })
    // One key per attempt, like cancel/resume: the live row changes with every applied change, so
    // A -> B -> A within Stripe's 24 h is three updates, while a retry of one attempt is replayed.
    const attempt = String(change.live.updated_at)
    return stripe.subscriptions.update(
      subscriptionId,
      {
        items: [{ id: item.id, price }],
        proration_behavior: 'create_prorations',
        metadata: { user_id: user.id, plan_id: change.plan.id },
      },
      { idempotencyKey: idempotencyKey('change-plan', subscriptionId, item.id, price, attempt) },
    )
  })
  // SQL refuses (PROVR) an answer not on the requested price: a plan Stripe does not bill.
  return c.json({ subscription: await applySnapshot(db, user, updated, 'change-plan', undefined, price) })
})

app.post('/cancel', (c) => cancelOrResume(c, true))
app.post('/resume', (c) => cancelOrResume(c, false))

app.post('/portal', async (c) => {
  const env = envOf(c.env)
  const user = c.get('user')
  const body = await parseJson(c, PortalRequest, { allowEmpty: true })
  const stripe = stripeClientFor(env)
  const returnUrl = redirectUrl(env, body.return_url, 'return')
  const db = dbFor(env)
  const customer = await value<string | null>(
    db`select c.provider_customer_id as value from tollgate_private.customers c
      where c.user_id = ${user.id} and c.provider = 'stripe'`,
  )
  if (!customer) throw new ApiError('NOSUB', { message: 'You have no Stripe billing account yet' })
  const session = await provider(() =>
    stripe.billingPortal.sessions.create({ customer, return_url: returnUrl }),
  )
  return c.json({ url: session.url })
})

const cancelOrResume = async (c: Context<BillingEnv>, cancel: boolean): Promise<Response> => {
  const env = envOf(c.env)
  const user = c.get('user')
  const db = dbFor(env)
  const live = await value<Json | null>(
    db`select tollgate_private.live_subscription_of(${user.id}) as value`,
  )
  if (!live) throw new ApiError('NOSUB')
  if (live.provider !== 'stripe') {
    const action = cancel ? 'cancel' : 'resume'
    const subscription = await applyThenRead(
      db,
      user,
      (tx) =>
        tx`select tollgate_private.set_local_subscription(${user.id}, ${action}, now()) as value`,
    )
    return c.json({ subscription })
  }
  const stripe = stripeClientFor(env)
  const subscriptionId = String(live.provider_subscription_id)
  const action = cancel ? 'cancel' : 'resume'
  const updated = await provider(() =>
    stripe.subscriptions.update(
      subscriptionId,
      { cancel_at_period_end: cancel },
      { idempotencyKey: idempotencyKey(action, subscriptionId, String(live.updated_at)) },
    ),
  )
  return c.json({ subscription: await applySnapshot(db, user, updated, action) })
}

const switchToFree = async (
  env: Env,
  db: Db,
  user: AuthUser,
  live: Json | null,
): Promise<Json | null> => {
  if (live?.provider !== 'stripe') {
    return applyThenRead(
      db,
      user,
      (tx) => tx`select tollgate_private.set_local_subscription(${user.id}, 'end', now()) as value`,
    )
  }
  const stripe = stripeClientFor(env)
  const subscriptionId = String(live.provider_subscription_id)
  const canceled = await provider(() =>
    stripe.subscriptions.cancel(subscriptionId, undefined, {
      idempotencyKey: idempotencyKey('switch-to-free', subscriptionId),
    }),
  )
  // Canceled now, so no longer live: read it back by its id.
  return applySnapshot(db, user, canceled, 'switch-to-free', String(live.id))
}

const applySnapshot = (
  db: Db,
  user: AuthUser,
  subscription: unknown,
  reason: string,
  id?: string,
  expectedPrice: string | null = null,
): Promise<Json | null> =>
  applyThenRead(
    db,
    user,
    (tx) =>
      tx`select tollgate_private.apply_stripe_subscription_for(${user.id},
        ${asJson(tx, subscription)}, ${reason}, ${expectedPrice}) as value`,
    (written) => id ?? written?.id,
  )

/**
 * Expires the user's older Checkout Sessions still open at Stripe (a second tab, an abandoned
 * checkout), so only the new one can be paid; answers the ids expired. A session completed in the
 * meantime (paid, its subscription not applied yet) refuses the new checkout with HASUB.
 */
const expireOpenSessions = async (env: Env, sessionIds: string[]): Promise<string[]> => {
  if (sessionIds.length === 0) return []
  const stripe = stripeClientFor(env)
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
}

const priceOf = (plan: PlanRow): string => {
  if (!plan.stripe_price_id)
    throw new ApiError('PLINA', { message: 'This plan has no Stripe price' })
  return plan.stripe_price_id
}

// A Tollgate coupon becomes a Stripe coupon with a stable id on its first Stripe checkout.
const stripeCouponFor = async (
  stripe: Stripe,
  coupon: NonNullable<Extract<PreparedCheckout, { kind: 'new' | 'renewal' }>['coupon']>,
): Promise<string> => {
  if (coupon.stripe_coupon_id) return coupon.stripe_coupon_id
  const id = `tollgate_${coupon.code}`
  const created = await stripe.coupons
    .create(
      {
        id,
        duration: 'once',
        ...(coupon.percent_off !== null
          ? { percent_off: coupon.percent_off }
          : { amount_off: coupon.amount_off ?? 0, currency: coupon.currency ?? 'usd' }),
      },
      { idempotencyKey: idempotencyKey('coupon', coupon.code) },
    )
    .catch(async (error: unknown) => {
      // Made by an earlier checkout whose record was lost: it is ours, use it.
      if ((error as { code?: unknown }).code === 'resource_already_exists') {
        return stripe.coupons.retrieve(id)
      }
      throw error
    })
  return created.id
}
