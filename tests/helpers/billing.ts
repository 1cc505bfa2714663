import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import postgres from 'postgres'
import { inject } from 'vitest'
import { app } from '../../functions/billing/app.ts'
import { dbFor } from '../../functions/billing/db.ts'
import { createRazorpayWebhookApp } from '../../functions/razorpay-webhook/app.ts'
import { createStripeWebhookApp } from '../../functions/stripe-webhook/app.ts'
import { createDb, type Db } from '../../packages/db/src/client.ts'
import { asUser, createUser, ownerSql, type Sql, type TestUser } from './db.ts'
import {
  startFakeRazorpay,
  type FakeRazorpay,
  type FakeWebhook,
} from './fake-razorpay.ts'
import {
  createFakeStripe,
  type FakeStripe,
  type FakeStripeOptions,
} from './fake-stripe.ts'
import type { StripeJson } from './stripe/events.ts'

export { auditOf, customerOf, invoicesOf, subscriptionsOf } from './stripe/webhook.ts'

/** The HS256 secret the tests sign access tokens with (SUPABASE_JWT_SECRET). */
export const JWT_SECRET = 'tollgate-billing-tests-jwt-secret-0123456789abcdef'

/** The one origin success, cancel and return URLs may be on (TOLLGATE_REDIRECT_ORIGINS). */
export const ORIGIN = 'https://app.example.test'

/** The Stripe webhook endpoint secret of the tests. */
export const STRIPE_WEBHOOK_SECRET = 'whsec_tollgate_billing_tests'

/** Unix seconds now. */
export const unixNow = (): number => Math.floor(Date.now() / 1000)

/** An HS256 access token with these claims (signed with `secret`, default JWT_SECRET). */
export const signToken = (claims: Record<string, unknown>, secret = JWT_SECRET): Promise<string> =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(secret))

/** A signed-in user: committed to auth.users, with a valid access token. */
export type Caller = TestUser & { token: string }

/** The status and JSON body of a response. */
export type Answer = { status: number; body: any }

/** What `post` sends: a JSON value, or the exact body text. */
export type PostOptions = {
  /** Default: the caller's token; null sends no Authorization header. */
  token?: string | null
  /** Variables over the harness's (undefined removes one). */
  env?: Record<string, string | undefined>
  headers?: Record<string, string>
}

/** The billing app, fakes of Stripe and Razorpay, both webhook apps and an owner pool. */
export type BillingHarness = {
  stripe: FakeStripe
  razorpay: FakeRazorpay
  sql: Sql
  env: Record<string, string>
  signIn: () => Promise<Caller>
  /** POSTs to /billing/<route> as `caller` (JSON body unless a string is given). */
  post: (
    route: string,
    caller: Caller | null,
    body?: unknown,
    options?: PostOptions,
  ) => Promise<Answer>
  /** Delivers Stripe events, signed, to the stripe-webhook app; answers each response. */
  deliverStripe: (events: StripeJson[]) => Promise<Answer[]>
  /** Delivers a signed Razorpay webhook to the razorpay-webhook app. */
  deliverRazorpay: (hook: FakeWebhook) => Promise<Answer>
  close: () => Promise<void>
}

const answerOf = async (response: Response): Promise<Answer> => {
  const text = await response.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // Kept as text: the assertion shows what came back.
  }
  return { status: response.status, body }
}

/** Starts the fakes and builds the apps; `close()` in afterAll. */
export const billingHarness = async (
  options: {
    stripe?: FakeStripeOptions
    /** A database of the file's own (a scratch database) instead of the shared test database. */
    databaseUrl?: string
  } = {},
): Promise<BillingHarness> => {
  const stripe = await createFakeStripe(options.stripe)
  const razorpay = await startFakeRazorpay()
  const databaseUrl = options.databaseUrl ?? inject('databaseUrl')
  const sql = options.databaseUrl
    ? postgres(databaseUrl, { max: 4, onnotice: () => {}, prepare: false })
    : ownerSql()
  const webhookDb: Db = createDb(databaseUrl, {
    applicationName: `billing-test-webhooks-${randomUUID().slice(0, 8)}`,
    max: 4,
  })
  const stripeWebhook = createStripeWebhookApp({ db: () => webhookDb })
  const razorpayWebhook = createRazorpayWebhookApp({ db: () => webhookDb })
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    SUPABASE_JWT_SECRET: JWT_SECRET,
    STRIPE_SECRET_KEY: 'sk_test_tollgate_billing',
    STRIPE_WEBHOOK_SECRET,
    STRIPE_API_BASE: stripe.url,
    ...razorpay.env,
    TOLLGATE_REDIRECT_ORIGINS: ORIGIN,
  }

  const post: BillingHarness['post'] = async (route, caller, body, postOptions = {}) => {
    const token = postOptions.token === undefined ? (caller?.token ?? null) : postOptions.token
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...postOptions.headers,
    }
    const init: RequestInit = {
      method: 'POST',
      headers,
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    }
    return answerOf(await app.request(`/billing/${route}`, init, { ...env, ...postOptions.env }))
  }

  return {
    stripe,
    razorpay,
    sql,
    env,
    signIn: async () => {
      const user = await createUser(sql)
      return { ...user, token: await signToken(user.claims) }
    },
    post,
    deliverStripe: async (events) => {
      const answers: Answer[] = []
      for (const event of events) {
        const delivery = await stripe.signedDelivery(event, STRIPE_WEBHOOK_SECRET)
        const response = await stripeWebhook.request(
          '/stripe-webhook',
          { method: 'POST', headers: delivery.headers, body: delivery.body },
          env,
        )
        answers.push(await answerOf(response))
      }
      return answers
    },
    deliverRazorpay: async (hook) =>
      answerOf(await razorpayWebhook.request('/razorpay-webhook', hook.init, env)),
    close: async () => {
      // The billing function's pool on a database of the file's own goes with it.
      const own = options.databaseUrl ? [dbFor(env).end()] : []
      await Promise.all([stripe.close(), razorpay.close(), webhookDb.end(), sql.end(), ...own])
    },
  }
}

/** A row of tollgate.usage as the user reads it (bigints as strings). */
export type UsageRow = { metric: string; used: string; quota: string; remaining: string | null }

/** The caller's tollgate.usage rows, by metric. */
export const usageOf = (sql: Sql, user: TestUser): Promise<UsageRow[]> =>
  asUser(
    sql,
    user,
    (tx) => tx<UsageRow[]>`
      select metric, used, quota, remaining from tollgate.usage order by metric`,
  )

/** consume_usage as the user, committed. */
export const consume = (sql: Sql, user: TestUser, metric: string, amount: number) =>
  asUser(sql, user, (tx) => tx`select tollgate.consume_usage(${metric}, ${amount}::bigint)`, {
    commit: true,
  })

/** A committed coupon with a unique code; percent off, for the given plans. */
export const createCoupon = async (
  sql: Sql,
  options: { percentOff?: number; maxUses?: number | null; planIds?: string[] | null } = {},
): Promise<string> => {
  const code = `T${randomUUID().replaceAll('-', '').slice(0, 12).toUpperCase()}`
  await sql`
    insert into tollgate_private.coupons (code, percent_off, max_uses, plan_ids)
    values (${code}, ${options.percentOff ?? 10}, ${options.maxUses ?? null},
      ${options.planIds === undefined ? ['pro', 'enterprise'] : options.planIds})`
  return code
}

/** A coupon's use count and Stripe coupon. */
export const couponOf = async (
  sql: Sql,
  code: string,
): Promise<{ times_redeemed: number; stripe_coupon_id: string | null }> => {
  const [row] = await sql<{ times_redeemed: number; stripe_coupon_id: string | null }[]>`
    select times_redeemed, stripe_coupon_id from tollgate_private.coupons where code = ${code}`
  if (!row) throw new Error(`no coupon ${code}`)
  return row
}

/** The user's coupon redemptions (code and status), oldest first. */
export const redemptionsOf = (
  sql: Sql,
  userId: string,
): Promise<{ coupon_code: string; plan_id: string; status: string }[]> =>
  sql`
    select coupon_code, plan_id, status from tollgate_private.coupon_redemptions
    where user_id = ${userId} order by created_at, id`

/** The provider objects recorded for the user (checkout sessions, orders, subscriptions…). */
export const refsOf = (
  sql: Sql,
  userId: string,
): Promise<{ provider: string; object_type: string; provider_id: string }[]> =>
  sql`
    select provider, object_type, provider_id from tollgate_private.provider_refs
    where user_id = ${userId} order by created_at, provider_id`

/** Everything billing may write about a user, to show a refused request changed nothing. */
export const footprintOf = async (sql: Sql, userId: string) => ({
  subscriptions:
    await sql`select id, plan_id, status, cancel_at_period_end from tollgate.subscriptions
    where user_id = ${userId} order by created_at, id`,
  invoices: await sql`select id from tollgate.invoices where user_id = ${userId} order by id`,
  customers: await sql`select provider, provider_customer_id from tollgate_private.customers
    where user_id = ${userId} order by provider`,
  refs: await refsOf(sql, userId),
  redemptions: await redemptionsOf(sql, userId),
})

/** A Stripe checkout of `planId` through the app, paid at the fake. */
export const paidStripeCheckout = async (
  h: BillingHarness,
  caller: Caller,
  planId = 'pro',
  body: Record<string, unknown> = {},
): Promise<{ sessionId: string; subscriptionId: string; events: StripeJson[] }> => {
  const from = h.stripe.events.length
  const checkout = await h.post('checkout', caller, { plan_id: planId, ...body })
  if (checkout.status !== 200) {
    throw new Error(`checkout answered ${checkout.status} ${JSON.stringify(checkout.body)}`)
  }
  const sessionId = String(checkout.body.session_id)
  const outcome = h.stripe.completeCheckout(sessionId)
  // Tests in a file run one after the other: what the fake emitted since is this checkout's.
  const events = h.stripe.events.slice(from)
  return { sessionId, subscriptionId: String(outcome.subscription.id), events }
}

/**
 * Subscribes the caller through the app: checkout, paid at the fake, then applied by
 * verify-payment or by delivering Stripe's events to the webhook.
 */
export const subscribeWithStripe = async (
  h: BillingHarness,
  caller: Caller,
  via: 'verify' | 'webhooks',
  planId = 'pro',
): Promise<{ sessionId: string; subscriptionId: string }> => {
  const paid = await paidStripeCheckout(h, caller, planId)
  if (via === 'verify') {
    const verified = await h.post('verify-payment', caller, {
      provider: 'stripe',
      session_id: paid.sessionId,
    })
    if (verified.status !== 200) {
      throw new Error(`verify-payment answered ${verified.status} ${JSON.stringify(verified.body)}`)
    }
  } else {
    for (const answer of await h.deliverStripe(paid.events)) {
      if (answer.status !== 200) throw new Error(`webhook answered ${answer.status}`)
    }
  }
  return { sessionId: paid.sessionId, subscriptionId: paid.subscriptionId }
}

/** A Razorpay checkout of `planId` through the app, paid at the fake (what Checkout hands back). */
export const paidRazorpayCheckout = async (h: BillingHarness, caller: Caller, planId = 'pro') => {
  const checkout = await h.post('checkout', caller, { plan_id: planId, provider: 'razorpay' })
  if (checkout.status !== 200) {
    throw new Error(`checkout answered ${checkout.status} ${JSON.stringify(checkout.body)}`)
  }
  return h.razorpay.pay(String(checkout.body.order_id))
}

/** Ten minutes ago by the fake Stripe's clock: its events are older than anything the app applies. */
export const pastClock: FakeStripeOptions = { now: () => unixNow() - 600 }
