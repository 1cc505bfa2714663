import { Hono } from 'hono'
import type Stripe from 'stripe'
import { type Env, envOf, requireEnv } from '../../packages/core/src/env.ts'
import { statusForCode } from '../../packages/core/src/errors.ts'
import { ApiError, notFound, onError } from '../../packages/core/src/http.ts'
import { log } from '../../packages/core/src/log.ts'
import { type Db, poolFor } from '../../packages/db/src/client.ts'
import { healthCheck } from '../../packages/db/src/health.ts'
import { runProviderActions } from '../../packages/providers/stripe/src/actions.ts'
import { providerError, stripeClientFor } from '../../packages/providers/stripe/src/client.ts'
import { subscriptionToFetch } from '../../packages/providers/stripe/src/normalize.ts'
import { readRawBody, verifyStripeWebhook } from '../../packages/providers/stripe/src/webhook.ts'

/** What the webhook uses besides the request; tests pass their own pool or Stripe client. */
export type StripeWebhookDeps = {
  db?: (env: Env) => Db
  stripe?: (env: Env) => Stripe
  /** The clock signatures are checked against, in Unix seconds (default: the real one). */
  now?: () => number
}

// Event types whose application can queue a provider action (a second live subscription).
const ACTING_EVENTS = /^(customer\.subscription\.|checkout\.session\.)/

/** What apply_stripe_event answers. */
type ApplyResult = { outcome: string; event_id: string; type: string; error?: string }

const poolOf = (env: Env): Db => poolFor(env, { applicationName: 'tollgate-stripe-webhook' })

const sqlStateOf = (error: unknown): string | null => {
  if (typeof error !== 'object' || error === null) return null
  const { code, severity } = error as { code?: unknown; severity?: unknown }
  return typeof code === 'string' && code.length === 5 && typeof severity === 'string' ? code : null
}

// A signed payload Postgres cannot take as jsonb (\u0000, lone surrogates) or whose values have
// the wrong format: the event is bad, retrying cannot help.
const BAD_PAYLOAD_STATES = new Set(['22P02', '22P05'])

const failureText = (error: unknown): string => {
  const code = error instanceof ApiError ? error.code : (sqlStateOf(error) ?? 'ERROR')
  const message = error instanceof Error ? error.message : String(error)
  return `${code}: ${message}`
}

// Best effort, in its own transaction: the apply rolled back, the event stays unprocessed.
const recordFailure = async (db: Db, event: Stripe.Event, raw: string, error: unknown) => {
  try {
    await db`
      select tollgate_private.record_webhook_failure(
        'stripe', ${event.id}, ${event.type}, ${raw}::text::jsonb, ${failureText(error)})`
  } catch (recordError) {
    log.error('stripe_webhook_failure_not_recorded', { event_id: event.id, error: recordError })
  }
}

/** What a failure after verification becomes: 400 for a bad event, else 5xx so Stripe retries. */
const failureOf = async (db: Db, event: Stripe.Event, raw: string, error: unknown) => {
  const state = sqlStateOf(error)
  if ((error instanceof ApiError && error.code === 'BADEV') || state === 'BADEV') return error
  if (state !== null && BAD_PAYLOAD_STATES.has(state)) {
    return new ApiError('BADEV', { details: { sqlstate: state }, cause: error })
  }
  const cause = providerError(error)
  await recordFailure(db, event, raw, cause)
  let status = 500
  if (cause instanceof ApiError) status = cause.status
  else if (state !== null) status = statusForCode(state)
  if (status >= 500) return cause
  // A conflict we cannot resolve now (e.g. CUSTM) is still ours to fix: Stripe must retry.
  return new ApiError('INTRN', { details: { code: state }, cause })
}

// Whether this event was applied already: a cheap read, so a duplicate needs nothing from Stripe.
const processed = async (db: Db, event: Stripe.Event): Promise<boolean> => {
  const [row] = await db<{ processed: boolean }[]>`
    select tollgate_private.webhook_event_processed('stripe', ${event.id}) as processed`
  return row?.processed === true
}

/**
 * The subscription a paid checkout created, fetched now (SQL applies it with the checkout); null
 * when there is none or the event was applied already (apply_stripe_event answers duplicate).
 */
const relatedOf = async (
  event: Stripe.Event,
  env: Env,
  db: Db,
  stripeFor: (env: Env) => Stripe,
): Promise<string | null> => {
  const subscriptionId = subscriptionToFetch(event)
  if (subscriptionId === null || (await processed(db, event))) return null
  const subscription = await stripeFor(env).subscriptions.retrieve(subscriptionId)
  return JSON.stringify({ subscription })
}

/** Builds the stripe-webhook app (POST /stripe-webhook, Stripe-Signature instead of a JWT). */
export const createStripeWebhookApp = (deps: StripeWebhookDeps = {}) => {
  const dbFor = deps.db ?? poolOf
  const stripeFor = deps.stripe ?? stripeClientFor
  const app = new Hono().basePath('/stripe-webhook')
  app.onError(onError)
  app.notFound(notFound)
  app.get('/', healthCheck(dbFor))

  app.post('/', async (c) => {
    const env = envOf(c.env)
    const secret = requireEnv(env, 'STRIPE_WEBHOOK_SECRET')
    const db = dbFor(env)
    const raw = await readRawBody(c.req.raw)
    const event = await verifyStripeWebhook(raw, c.req.header('stripe-signature'), secret, {
      ...(deps.now ? { now: deps.now() } : {}),
    })
    try {
      const related = await relatedOf(event, env, db, stripeFor)
      // Text, cast in SQL: the exact bytes Stripe signed are stored (postgres.js would re-encode a
      // jsonb parameter as a JSON string).
      const apply = async (fetched: string | null) =>
        (
          await db<{ result: ApplyResult }[]>`
            select tollgate_private.apply_stripe_event(${raw}::text::jsonb, ${fetched}::text::jsonb) as result`
        )[0]?.result
      let result = await apply(related)
      // Another event of the same second was applied first: Stripe's current object settles it.
      if (result?.outcome === 'tie') {
        const id = String((event.data.object as { id?: unknown }).id)
        const subscription = await stripeFor(env).subscriptions.retrieve(id)
        result = await apply(JSON.stringify({ subscription }))
      }
      log.info('stripe_webhook', {
        event_id: event.id,
        type: event.type,
        api_version: event.api_version,
        outcome: result?.outcome,
        reason: result?.error,
      })
      // Calls the applied events made due (cancel a superseded subscription), and earlier ones
      // still pending; after the commit, so they never run for a change that rolled back.
      // A duplicate changed nothing: what is pending waits for the next event that does.
      if (ACTING_EVENTS.test(event.type) && result?.outcome !== 'duplicate' && env.STRIPE_SECRET_KEY) {
        await runProviderActions(db, stripeFor(env))
      }
      return c.json({ received: true })
    } catch (error) {
      throw await failureOf(db, event, raw, error)
    }
  })

  return app
}

/** The stripe-webhook function as deployed. */
export const app = createStripeWebhookApp()
