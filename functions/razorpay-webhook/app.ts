import { type Context, Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { Env, EnvSource } from '../../packages/core/src/env.ts'
import { ApiError, functionPath, notFound, onError } from '../../packages/core/src/http.ts'
import { webhookPipeline } from '../../packages/core/src/webhook.ts'
import { type Db, poolFor } from '../../packages/db/src/client.ts'
import { healthCheck } from '../../packages/db/src/health.ts'
import {
  parseRazorpayWebhook,
  verifyWebhookSignature,
} from '../../packages/providers/razorpay/src/index.ts'

/** Largest webhook body accepted: 256 KiB (Razorpay's events are a few KiB). */
export const RAZORPAY_WEBHOOK_BODY_LIMIT = 256 * 1024

// Razorpay's event ids are short base62 strings; anything printable up to the ledger's 255 passes.
const EVENT_ID = /^[\x21-\x7e]{1,255}$/

/** Hono env of the function: bindings are raw variables (tests pass them to `app.request`). */
export type RazorpayWebhookEnv = { Bindings: EnvSource }

/** How the app reaches the database; default one pool per DATABASE_URL / SUPABASE_DB_URL. */
export type RazorpayWebhookOptions = { db?: (env: Env) => Db }

const poolOf = (env: Env): Db => poolFor(env, { applicationName: 'tollgate-razorpay-webhook' })

// A failure that is neither SQL nor an ApiError is noted by its name (TypeError, Error).
const errorName = (error: unknown): string => (error instanceof Error ? error.name : 'ERROR')

const tooBig = (): never => {
  throw new ApiError('TOOBG', { details: { limit: RAZORPAY_WEBHOOK_BODY_LIMIT } })
}

/** A verified Razorpay delivery: the event-id header, the event type and the signed text. */
type RazorpayDelivery = { id: string; type: string; raw: string }

const verifyDelivery = async (c: Context, env: Env): Promise<RazorpayDelivery> => {
  // Never another secret in its place: a webhook verified with the wrong key proves nothing.
  const secret = env.RAZORPAY_WEBHOOK_SECRET
  if (secret === undefined) {
    throw new ApiError('NOCFG', {
      message: 'Razorpay webhooks are not configured: RAZORPAY_WEBHOOK_SECRET is not set',
      details: { missing: 'RAZORPAY_WEBHOOK_SECRET' },
    })
  }

  // The signature covers the bytes received, so they are verified before anything reads them.
  const body = new Uint8Array(await c.req.arrayBuffer())
  const signature = c.req.header('x-razorpay-signature')
  if (signature === undefined || signature === '') {
    throw new ApiError('BADSG', { message: 'The X-Razorpay-Signature header is missing' })
  }
  if (!(await verifyWebhookSignature({ body, signature, secret }))) {
    throw new ApiError('BADSG', { message: 'The X-Razorpay-Signature does not match the body' })
  }

  const eventId = c.req.header('x-razorpay-event-id')
  if (eventId === undefined || !EVENT_ID.test(eventId)) {
    throw new ApiError('BADEV', {
      message: 'The x-razorpay-event-id header is missing or malformed',
    })
  }

  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body)
  } catch {
    throw new ApiError('BADEV', { message: 'The body is not UTF-8' })
  }
  const parsed = parseRazorpayWebhook(text)
  if (!parsed.ok) {
    throw new ApiError('BADEV', {
      message:
        parsed.problem.reason === 'json'
          ? 'The body is not JSON'
          : 'The body is not a Razorpay event',
      details: parsed.problem.issues,
    })
  }
  return { id: eventId, type: parsed.value.event.event, raw: text }
}

/** The razorpay-webhook app (POST /razorpay-webhook), with the database access of your choice. */
export const createRazorpayWebhookApp = (options: RazorpayWebhookOptions = {}) => {
  const dbFor = options.db ?? poolOf
  const app = new Hono<RazorpayWebhookEnv>({ getPath: functionPath }).basePath('/razorpay-webhook')
  app.onError(onError)
  app.notFound(notFound)
  app.get('/', healthCheck(dbFor))

  app.post(
    '/',
    bodyLimit({ maxSize: RAZORPAY_WEBHOOK_BODY_LIMIT, onError: tooBig }),
    webhookPipeline<RazorpayDelivery, { result: { outcome?: string } } | undefined, Db>({
      provider: 'razorpay',
      db: dbFor,
      verify: verifyDelivery,
      // ONE call, ONE transaction: record in the ledger (duplicates are no-ops) and apply.
      apply: async ({ db, event }) =>
        (
          await db<{ result: { outcome?: string } }[]>`
            select tollgate_private.apply_razorpay_event(${event.id}, ${event.raw}::text::jsonb) as result`
        )[0],
      outcome: (_event, row) => ({ outcome: row?.result.outcome ?? null }),
      unknownCode: errorName,
    }),
  )

  return app
}

/** The razorpay-webhook function as deployed. */
export const app = createRazorpayWebhookApp()
