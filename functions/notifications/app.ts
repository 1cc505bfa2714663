import { Hono } from 'hono'
import {
  ApiError,
  authOptionsOf,
  type Env,
  envOf,
  functionPath,
  notFound,
  onError,
  requireServiceRole,
} from '../../packages/core/src/index.ts'
import { type Db, poolFor } from '../../packages/db/src/client.ts'
import { healthCheck } from '../../packages/db/src/health.ts'
import { dispatchEmails } from '../../packages/notifications/src/dispatch.ts'
import { runProviderActions } from '../../packages/providers/stripe/src/actions.ts'
import { stripeClientFor } from '../../packages/providers/stripe/src/client.ts'

/** Hono env of the function: bindings are raw variables (tests pass them to `app.request`). */
export type NotificationsEnv = { Bindings: Record<string, string | undefined> | undefined }

const dbFor = (env: Env): Db => poolFor(env, { max: 2, applicationName: 'tollgate-notifications' })

/**
 * The notifications worker: POST /notifications/dispatch sends due emails and runs the due provider
 * actions of the outbox (service role only).
 */
export const app = new Hono<NotificationsEnv>({ getPath: functionPath }).basePath('/notifications')

app.onError(onError)
app.notFound(notFound)
app.get('/', healthCheck(dbFor))
app.post(
  '/dispatch',
  requireServiceRole<NotificationsEnv>((c) => authOptionsOf(envOf(c.env))),
  async (c) => {
    const env = envOf(c.env)
    // The provider outbox too (e.g. Stripe subscriptions of deleted users to cancel): the schedule
    // that calls this route every minute is what drains it when no webhook or verify-payment does.
    const actions = env.STRIPE_SECRET_KEY
      ? await runProviderActions(dbFor(env), stripeClientFor(env), { limit: 20 })
      : undefined
    const missing = (['TOLLGATE_EMAIL_FROM', 'TOLLGATE_APP_URL'] as const).filter(
      (name) => env[name] === undefined,
    )
    if (missing.length > 0) {
      throw new ApiError('NOCFG', {
        message: `Emails are not configured: ${missing.join(', ')} not set`,
        details: { missing: missing.join(', ') },
      })
    }
    const report = await dispatchEmails(dbFor(env), {
      apiKey: env.RESEND_API_KEY,
      apiBase: env.RESEND_API_BASE,
      from: env.TOLLGATE_EMAIL_FROM ?? '',
      appUrl: env.TOLLGATE_APP_URL ?? '',
    })
    return c.json(actions ? { ...report, provider_actions: actions } : report)
  },
)
