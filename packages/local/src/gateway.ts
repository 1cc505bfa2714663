import { ErrorCodes } from '../../core/src/errors.ts'
import { errorBody, FUNCTIONS_PATH } from '../../core/src/http.ts'
import type { Env } from '../../core/src/env.ts'

/** What a function's app.ts exports: a Hono app with basePath('/<name>'). */
export type FunctionApp = {
  fetch: (request: Request, env?: Record<string, string>) => Response | Promise<Response>
}

export { FUNCTIONS_PATH }

/** Every function the local stack serves, by name (the functions/<name> folder). */
export const loadFunctions = async (): Promise<Record<string, FunctionApp>> => {
  const [billing, stripeWebhook, razorpayWebhook, notifications, metering] = await Promise.all([
    import('../../../functions/billing/app.ts'),
    import('../../../functions/stripe-webhook/app.ts'),
    import('../../../functions/razorpay-webhook/app.ts'),
    import('../../../functions/notifications/app.ts'),
    import('../../../functions/metering/app.ts'),
  ])
  return {
    billing: billing.app,
    'stripe-webhook': stripeWebhook.app,
    'razorpay-webhook': razorpayWebhook.app,
    notifications: notifications.app,
    metering: metering.app,
  }
}

/**
 * Serves `apps` as Supabase's edge runtime does: `/functions/v1/<name>/...` reaches app `<name>`,
 * whose routes see the path `/<name>/...` (its Hono `getPath` is `functionPath`), and `bindings`
 * as its variables (over process.env). The request is passed on unchanged, body and all.
 */
export const gateway =
  (apps: Record<string, FunctionApp>, bindings: Record<string, string>) =>
  async (request: Request): Promise<Response> => {
    const url = new URL(request.url)
    const name = url.pathname.startsWith(`${FUNCTIONS_PATH}/`)
      ? url.pathname.slice(FUNCTIONS_PATH.length + 1).split('/')[0]
      : undefined
    const app = name ? apps[name] : undefined
    if (!app) {
      const body = errorBody('NOTFD', ErrorCodes.NOTFD.message, { functions: Object.keys(apps) })
      return Response.json(body, { status: 404 })
    }
    // As it came: each app routes on functionPath, which drops the /functions/v1 prefix.
    return app.fetch(request, bindings)
  }

/** Provider settings, and what answers 503 NOCFG naming the setting while it is missing. */
export const PROVIDER_SETTINGS: readonly { name: keyof Env; needed: string }[] = [
  {
    name: 'STRIPE_SECRET_KEY',
    needed: 'billing with provider stripe; stripe-webhook for checkout events',
  },
  { name: 'STRIPE_WEBHOOK_SECRET', needed: 'stripe-webhook' },
  { name: 'RAZORPAY_KEY_ID', needed: 'billing with provider razorpay' },
  { name: 'RAZORPAY_KEY_SECRET', needed: 'billing with provider razorpay' },
  { name: 'RAZORPAY_WEBHOOK_SECRET', needed: 'razorpay-webhook' },
]

/** The provider settings `env` lacks. */
export const missingSettings = (env: Env): typeof PROVIDER_SETTINGS =>
  PROVIDER_SETTINGS.filter((setting) => env[setting.name] === undefined)
