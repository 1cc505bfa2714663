import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { type Env, type EnvSource, envOf } from '../../packages/core/src/env.ts'
import { statusForCode } from '../../packages/core/src/errors.ts'
import { ApiError, notFound, onError } from '../../packages/core/src/http.ts'
import { log } from '../../packages/core/src/log.ts'
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

const sqlStateOf = (error: unknown): string | null => {
  if (typeof error !== 'object' || error === null) return null
  const { code, severity } = error as { code?: unknown; severity?: unknown }
  return typeof code === 'string' && code.length === 5 && typeof severity === 'string' ? code : null
}

// A signed payload Postgres cannot take as jsonb (\u0000, lone surrogates) or whose values have
// the wrong format: the event is bad, and retrying cannot help.
const BAD_PAYLOAD_STATES = new Set(['BADEV', '22P02', '22P05'])

const describeError = (error: unknown): string => {
  const code = sqlStateOf(error) ?? (error instanceof Error ? error.name : 'ERROR')
  const message = error instanceof Error ? error.message : String(error)
  return `${code}: ${message}`
}

const tooBig = (): never => {
  throw new ApiError('TOOBG', { details: { limit: RAZORPAY_WEBHOOK_BODY_LIMIT } })
}

/** The razorpay-webhook app (POST /razorpay-webhook), with the database access of your choice. */
export const createRazorpayWebhookApp = (options: RazorpayWebhookOptions = {}) => {
  const dbFor = options.db ?? poolOf
  const app = new Hono<RazorpayWebhookEnv>().basePath('/razorpay-webhook')
  app.onError(onError)
  app.notFound(notFound)
  app.get('/', healthCheck(dbFor))

  app.post('/', bodyLimit({ maxSize: RAZORPAY_WEBHOOK_BODY_LIMIT, onError: tooBig }), async (c) => {
    const env = envOf(c.env)
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
    const type = parsed.value.event.event

    const db = dbFor(env)
    try {
      // ONE call, ONE transaction: record in the ledger (duplicates are no-ops) and apply.
      const [row] = await db<{ result: { outcome?: string } }[]>`
        select tollgate_private.apply_razorpay_event(${eventId}, ${text}::text::jsonb) as result`
      log.info('razorpay_webhook', {
        event_id: eventId,
        type,
        outcome: row?.result.outcome ?? null,
      })
    } catch (error) {
      const state = sqlStateOf(error)
      if (state !== null && BAD_PAYLOAD_STATES.has(state)) {
        throw state === 'BADEV'
          ? error
          : new ApiError('BADEV', { details: { sqlstate: state }, cause: error })
      }
      // Our failure: the apply rolled back; note it in a new transaction and let Razorpay retry.
      try {
        await db`
          select tollgate_private.record_webhook_failure(
            'razorpay', ${eventId}, ${type}, ${text}::text::jsonb, ${describeError(error)})`
      } catch (recordError) {
        log.error('razorpay_webhook_failure_not_recorded', {
          event_id: eventId,
          error: recordError,
        })
      }
      // Any other refusal from the database (a constraint, a conflict) is ours to fix: still 5xx.
      if (state !== null && statusForCode(state) < 500) {
        throw new ApiError('INTRN', { details: { code: state }, cause: error })
      }
      throw error
    }
    return c.json({ received: true })
  })

  return app
}

/** The razorpay-webhook function as deployed. */
export const app = createRazorpayWebhookApp()
