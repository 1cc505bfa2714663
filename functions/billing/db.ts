import type {
  AuthEnv,
  AuthUser,
  Env,
  Json,
  PlanRow,
  PreparedCheckout,
  PreparedPurchase,
  PreparedRefund,
} from '../../packages/core/src/index.ts'
import { poolFor, type Db, type DbTx } from '../../packages/db/src/client.ts'

/** Hono env of the billing routes: the raw variables, and the caller once authenticated. */
export type BillingEnv = AuthEnv & { Bindings: Record<string, string | undefined> | undefined }

/** The pool of the billing function. */
export const dbFor = (env: Env): Db => poolFor(env, { max: 5 })

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
/** Inside the write's transaction: the row as the caller reads it (their role and claims, under RLS). */
const readAsCaller = async (
  tx: DbTx,
  user: AuthUser,
  table: 'subscriptions' | 'purchases',
  id: string,
): Promise<Json | null> => {
  await tx`select pg_catalog.set_config('role', 'authenticated', true),
    pg_catalog.set_config('request.jwt.claims', ${JSON.stringify(user.claims)}, true)`
  return value<Json | null>(tx`select to_jsonb(r) as value from ${tx('tollgate.' + table)} r where r.id = ${id}`)
}

/**
 * A request's reason for the audit log (`note`), and who reads the answer when it is not the
 * subscriber (`reader`: an admin acting on another user's subscription).
 */
export type RequestOptions = { note?: string | undefined; reader?: AuthUser }

const applyThenRead = (
  db: Db,
  user: AuthUser,
  write: (tx: DbTx) => Promise<readonly { value?: unknown }[]>,
  idOf: (written: Json | null) => unknown = (written) => written?.id,
  actor?: AuthUser,
): Promise<Json | null> =>
  db.begin(async (tx) => {
    // The request's author, for the audit log (auth.uid() in its triggers and functions).
    if (actor) {
      await tx`select pg_catalog.set_config('request.jwt.claims', ${JSON.stringify(actor.claims)}, true)`
    }
    const id = idOf(await value<Json | null>(write(tx)))
    return typeof id === 'string' ? readAsCaller(tx, user, 'subscriptions', id) : null
  }) as Promise<Json | null>

/** Reserves a checkout (and its coupon use) of `planId`, or says the plan is free. */
export const prepareCheckout = (
  db: Db,
  user: AuthUser,
  request: { plan_id: string; provider: string; coupon_code?: string | undefined },
): Promise<PreparedCheckout> =>
  value<PreparedCheckout>(
    db`select tollgate_private.prepare_checkout(${user.id}, ${request.plan_id}, ${request.provider},
      ${request.coupon_code ?? null}, now()) as value`,
  )

/** Records the provider's session or order of a prepared checkout. */
export const recordCheckout = async (
  db: Db,
  user: AuthUser,
  checkout: {
    provider: 'stripe' | 'razorpay'
    providerId: string
    checkoutId: string
    planId: string
    amount: number
    currency: string
    extra: Json
  },
): Promise<void> => {
  await db`select tollgate_private.record_checkout(${user.id}, ${checkout.provider},
    ${checkout.providerId}, ${checkout.checkoutId}, ${checkout.planId}, ${checkout.amount},
    ${checkout.currency}, ${asJson(db, checkout.extra)})`
}

/** Gives a checkout's coupon use back (nothing was sold); never throws. */
export const releaseCoupon = async (db: Db, checkoutId: string): Promise<void> => {
  await db`select tollgate_private.settle_coupon(${checkoutId}, false)`.catch(() => undefined)
}

/** Applies a Stripe Checkout Session (and its subscription); answers the caller's subscription. */
export const applyStripeCheckout = (
  db: Db,
  user: AuthUser,
  checkout: { session: Json; subscription: Json | null },
): Promise<Json | null> =>
  applyThenRead(
    db,
    user,
    (tx) => {
      const subscription = checkout.subscription ? asJson(tx, checkout.subscription) : null
      return tx`select tollgate_private.apply_stripe_checkout_for(${user.id},
        ${asJson(tx, checkout.session)}, ${subscription}) as value`
    },
  )

/**
 * Applies the subscription Stripe answered (`reason`: change-plan, cancel, resume, switch-to-free);
 * SQL refuses (PROVR) an answer not on `expectedPrice` when given. `id`: the row to answer when the
 * subscription is no longer live (default: the one written).
 */
export const applyStripeSubscription = (
  db: Db,
  user: AuthUser,
  subscription: unknown,
  reason: string,
  options: RequestOptions & { id?: string; expectedPrice?: string } = {},
): Promise<Json | null> =>
  applyThenRead(
    db,
    options.reader ?? user,
    (tx) =>
      tx`select tollgate_private.apply_stripe_subscription_for(${user.id},
        ${asJson(tx, subscription)}, ${reason}, ${options.expectedPrice ?? null},
        ${options.note ?? null}) as value`,
    (written) => options.id ?? written?.id,
    options.note ? (options.reader ?? user) : undefined,
  )

/** The plan to change to and the caller's live Stripe subscription; SQL refuses what cannot. */
export const preparePlanChange = (
  db: Db,
  user: AuthUser,
  planId: string,
): Promise<{ plan: PlanRow; live: Json }> =>
  value<{ plan: PlanRow; live: Json }>(
    db`select tollgate_private.prepare_plan_change(${user.id}, ${planId}) as value`,
  )

/** The caller's live subscription with its provider ids, or null. */
export const liveSubscriptionOf = (db: Db, user: AuthUser): Promise<Json | null> =>
  value<Json | null>(db`select tollgate_private.live_subscription_of(${user.id}) as value`)

/** Cancels, resumes or ends a subscription no provider bills; answers the caller's subscription. */
export const setLocalSubscription = (
  db: Db,
  user: AuthUser,
  action: 'cancel' | 'resume' | 'end',
  options: RequestOptions = {},
): Promise<Json | null> =>
  applyThenRead(
    db,
    options.reader ?? user,
    (tx) =>
      tx`select tollgate_private.set_local_subscription(${user.id}, ${action}, now(),
        ${options.note ?? null}) as value`,
    undefined,
    options.note ? (options.reader ?? user) : undefined,
  )

/** The caller's Stripe customer id, or null. */
export const stripeCustomerOf = (db: Db, user: AuthUser): Promise<string | null> =>
  value<string | null>(
    db`select c.provider_customer_id as value from tollgate_private.customers c
      where c.user_id = ${user.id} and c.provider = 'stripe'`,
  )

/**
 * ONE transaction: the payment applied by Tollgate's SQL function, then the purchase read as the
 * caller reads it (their role and claims, under RLS). `purchase_id` is in the write's result.
 */
const applyThenReadPurchase = (
  db: Db,
  user: AuthUser,
  write: (tx: DbTx) => Promise<readonly { value?: unknown }[]>,
): Promise<Json | null> =>
  db.begin(async (tx) => {
    const id = (await value<Json | null>(write(tx)))?.purchase_id
    return typeof id === 'string' ? readAsCaller(tx, user, 'purchases', id) : null
  }) as Promise<Json | null>

/** Prices and reserves a checkout of `quantity` units of a product (and its coupon use). */
export const preparePurchase = (
  db: Db,
  user: AuthUser,
  request: { product_id: string; quantity: number; provider: string; coupon_code?: string | undefined },
): Promise<PreparedPurchase> =>
  value<PreparedPurchase>(
    db`select tollgate_private.prepare_purchase(${user.id}, ${request.product_id},
      ${request.quantity}, ${request.provider}, ${request.coupon_code ?? null}, now()) as value`,
  )

/** Records the provider's session or order of a prepared product checkout. */
export const recordPurchaseCheckout = async (
  db: Db,
  user: AuthUser,
  checkout: {
    provider: 'stripe' | 'razorpay'
    providerId: string
    prepared: PreparedPurchase
    extra: Json
  },
): Promise<void> => {
  const { prepared } = checkout
  await db`select tollgate_private.record_purchase_checkout(${user.id}, ${checkout.provider},
    ${checkout.providerId}, ${prepared.checkout_id}, ${prepared.product.id}, ${prepared.quantity},
    ${prepared.amount}, ${prepared.currency}, ${asJson(db, checkout.extra)})`
}

/** Applies a paid payment-mode Checkout Session; answers the caller's purchase. */
export const applyStripePurchase = (db: Db, user: AuthUser, session: Json): Promise<Json | null> =>
  applyThenReadPurchase(
    db,
    user,
    (tx) =>
      tx`select tollgate_private.apply_stripe_purchase(${asJson(tx, session)}, ${user.id}, null,
        ${'verify:' + String(session.id)}) as value`,
  )

/**
 * Applies a verified Razorpay payment of an order, whatever it was for, in ONE transaction:
 * answers `{purchase}` for a product's order, `{subscription}` for a plan's, as the caller reads it.
 */
export const applyRazorpayOrder = (
  db: Db,
  user: AuthUser,
  payment: { orderId: string; paymentId: string },
): Promise<{ purchase: Json | null } | { subscription: Json | null }> =>
  db.begin(async (tx) => {
    const written = await value<Json | null>(
      tx`select tollgate_private.apply_razorpay_payment(${user.id}, ${payment.orderId},
        ${payment.paymentId}, null, 'verify', now()) as value`,
    )
    if (typeof written?.purchase_id === 'string') {
      return { purchase: await readAsCaller(tx, user, 'purchases', written.purchase_id) }
    }
    const id = written?.subscription_id
    return {
      subscription: typeof id === 'string' ? await readAsCaller(tx, user, 'subscriptions', id) : null,
    }
  }) as Promise<{ purchase: Json | null } | { subscription: Json | null }>

/** Writes (or finds again) an admin's refund request; SQL refuses what cannot be refunded. */
export const prepareAdminRefund = (
  db: Db,
  user: AuthUser,
  request: { invoice_id?: string | undefined; purchase_id?: string | undefined; amount?: number | undefined; reason: string },
  idempotencyKey: string | undefined,
): Promise<PreparedRefund> =>
  value<PreparedRefund>(
    db`select tollgate_private.prepare_admin_refund(${user.id}, ${request.invoice_id ?? null},
      ${request.purchase_id ?? null}, ${request.amount ?? null}, ${request.reason},
      ${idempotencyKey ?? null}) as value`,
  )

/** Records the refund the provider made for a request; answers {refund, amount_refunded, status}. */
export const recordAdminRefund = (db: Db, requestId: string, refund: unknown): Promise<Json> =>
  value<Json>(
    db`select tollgate_private.record_admin_refund(${requestId}, ${asJson(db, refund)}) as value`,
  )

/** Marks a refund request the provider refused (nothing was refunded); never throws. */
export const failAdminRefund = async (db: Db, requestId: string, error: string): Promise<void> => {
  await db`select tollgate_private.fail_admin_refund(${requestId}, ${error})`.catch(() => undefined)
}

/** The sub_... ids of the caller's Stripe subscriptions that may still bill (live or incomplete). */
export const stripeSubscriptionsToCancel = async (db: Db, user: AuthUser): Promise<string[]> =>
  (
    await db<{ id: string }[]>`
      select r.provider_id as id
      from tollgate.subscriptions s
      join tollgate_private.provider_refs r
        on r.provider = 'stripe' and r.object_type = 'subscription' and r.local_id = s.id
      where s.user_id = ${user.id} and s.provider = 'stripe'
        and s.status = any (tollgate_private.live_statuses() || array['incomplete'])
      order by s.created_at, r.provider_id`
  ).map((row) => row.id)

/** The caller's Stripe Checkout Sessions that may still be open (any kind; they last 24 hours). */
export const openStripeCheckoutsOf = async (db: Db, user: AuthUser): Promise<string[]> =>
  (
    await db<{ id: string }[]>`
      select r.provider_id as id from tollgate_private.provider_refs r
      where r.user_id = ${user.id} and r.provider = 'stripe' and r.object_type = 'checkout_session'
        and coalesce(r.details ->> 'state', 'open') = 'open'
        and r.created_at > now() - interval '25 hours'
      order by r.created_at, r.provider_id`
  ).map((row) => row.id)

/**
 * Forgets the caller once their Stripe subscriptions are cancelled (`canceled`) and their open
 * checkouts closed (`expired`: closed unpaid, their coupon uses go back): ONE SQL call,
 * delete_account, which answers what it deleted and kept (or nothing_left on a retry).
 */
export const deleteAccount = (db: Db, user: AuthUser, canceled: string[], expired: string[]): Promise<Json> =>
  value<Json>(
    db`select tollgate_private.delete_account(${user.id}, ${canceled}::text[], ${expired}::text[]) as value`,
  )
