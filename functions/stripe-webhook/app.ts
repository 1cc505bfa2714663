import { Hono } from 'hono'
import { type Env, requireEnv } from '../../packages/core/src/env.ts'
import { functionPath, notFound, onError } from '../../packages/core/src/http.ts'
import { webhookPipeline } from '../../packages/core/src/webhook.ts'
import { type Db, poolFor } from '../../packages/db/src/client.ts'
import { healthCheck } from '../../packages/db/src/health.ts'
import { runProviderActions } from '../../packages/providers/stripe/src/actions.ts'
import {
  retrieveStripeSubscription,
  type StripeClient,
  type StripeEvent,
} from '../../packages/providers/stripe/src/billing.ts'
import { providerError, stripeClientFor } from '../../packages/providers/stripe/src/client.ts'
import { subscriptionToFetch } from '../../packages/providers/stripe/src/normalize.ts'
import { readRawBody, verifyStripeWebhook } from '../../packages/providers/stripe/src/webhook.ts'

/** What the webhook uses besides the request; tests pass their own pool or Stripe client. */
export type StripeWebhookDeps = {
  db?: (env: Env) => Db
  stripe?: (env: Env) => StripeClient
  /** The clock signatures are checked against, in Unix seconds (default: the real one). */
  now?: () => number
}

// Event types whose application can queue a provider action (a second live subscription).
const ACTING_EVENTS = /^(customer\.subscription\.|checkout\.session\.)/

/** What apply_stripe_event answers. */
type ApplyResult = {
  outcome: string
  event_id: string
  type: string
  error?: string
  /** true when provider actions are due (this event's or earlier ones'); absent when none are. */
  actions_due?: true
}

/** A verified Stripe event with the exact text Stripe signed. */
type StripeDelivery = { id: string; type: string; raw: string; event: StripeEvent }

const poolOf = (env: Env): Db => poolFor(env, { applicationName: 'tollgate-stripe-webhook' })

// Whether this event was applied already: a cheap read, so a duplicate needs nothing from Stripe.
const processed = async (db: Db, event: StripeEvent): Promise<boolean> => {
  const [row] = await db<{ processed: boolean }[]>`
    select tollgate_private.webhook_event_processed('stripe', ${event.id}) as processed`
  return row?.processed === true
}

/** Builds the stripe-webhook app (POST /stripe-webhook, Stripe-Signature instead of a JWT). */
export const createStripeWebhookApp = (deps: StripeWebhookDeps = {}) => {
  const dbFor = deps.db ?? poolOf
  const stripeFor = deps.stripe ?? stripeClientFor
  const app = new Hono({ getPath: functionPath }).basePath('/stripe-webhook')
  app.onError(onError)
  app.notFound(notFound)
  app.get('/', healthCheck(dbFor))

  app.post(
    '/',
    webhookPipeline<StripeDelivery, ApplyResult | undefined, Db>({
      provider: 'stripe',
      db: dbFor,
      verify: async (c, env, db) => {
        const secret = requireEnv(env, 'STRIPE_WEBHOOK_SECRET')
        // The database settings are checked before the body is read (NOCFG first).
        db()
        const raw = await readRawBody(c.req.raw)
        const event = await verifyStripeWebhook(raw, c.req.header('stripe-signature'), secret, {
          ...(deps.now ? { now: deps.now() } : {}),
        })
        return { id: event.id, type: event.type, raw, event }
      },
      // The subscription a paid checkout created, fetched now (SQL applies it with the checkout);
      // none when the event was applied already (apply_stripe_event answers duplicate).
      fetch: async ({ env, db, event: { event } }) => {
        const subscriptionId = subscriptionToFetch(event)
        if (subscriptionId === null || (await processed(db, event))) return null
        const subscription = await retrieveStripeSubscription(stripeFor(env), subscriptionId)
        return JSON.stringify({ subscription })
      },
      // Text, cast in SQL: the exact bytes Stripe signed are stored (postgres.js would re-encode a
      // jsonb parameter as a JSON string).
      apply: async ({ db, event: { raw } }, fetched) =>
        (
          await db<{ result: ApplyResult }[]>`
            select tollgate_private.apply_stripe_event(${raw}::text::jsonb, ${fetched}::text::jsonb) as result`
        )[0]?.result,
      // Another event of the same second was applied first: Stripe's current object settles it.
      refetch: async ({ env, event: { event } }, result) => {
        if (result?.outcome !== 'tie') return null
        const id = String((event.data.object as { id?: unknown }).id)
        const subscription = await retrieveStripeSubscription(stripeFor(env), id)
        return JSON.stringify({ subscription })
      },
      outcome: ({ event }, result) => ({
        api_version: event.api_version,
        outcome: result?.outcome,
        reason: result?.error,
      }),
      // Calls the applied events made due (cancel a superseded subscription), and earlier ones
      // still pending; after the commit, so they never run for a change that rolled back.
      // A duplicate changed nothing: what is pending waits for the next event that does. The
      // apply said whether any action is due: none (the usual case) costs no second query.
      after: async ({ env, db, event: { event } }, result) => {
        const acted = ACTING_EVENTS.test(event.type) && result?.outcome !== 'duplicate'
        if (acted && result?.actions_due === true && env.STRIPE_SECRET_KEY) {
          await runProviderActions(db, stripeFor(env))
        }
      },
      providerError,
    }),
  )

  return app
}

/** The stripe-webhook function as deployed. */
export const app = createStripeWebhookApp()
