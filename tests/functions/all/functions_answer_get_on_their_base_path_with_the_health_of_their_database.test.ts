import { afterAll, describe, expect, inject, it, vi } from 'vitest'
import { app as billing } from '../../../functions/billing/app.ts'
import { app as metering } from '../../../functions/metering/app.ts'
import { app as notifications } from '../../../functions/notifications/app.ts'
import { app as razorpayWebhook } from '../../../functions/razorpay-webhook/app.ts'
import { app as stripeWebhook } from '../../../functions/stripe-webhook/app.ts'
import { poolFor } from '../../../packages/db/src/client.ts'
import { ORIGIN } from '../../helpers/billing.ts'

type App = { request: typeof billing.request }
const FUNCTIONS: [string, App][] = [
  ['billing', billing],
  ['stripe-webhook', stripeWebhook],
  ['razorpay-webhook', razorpayWebhook],
  ['notifications', notifications],
  ['metering', metering],
]

// Only the database: no JWT secret, no provider keys (the check needs none of them).
const env = { DATABASE_URL: inject('databaseUrl'), TOLLGATE_REDIRECT_ORIGINS: ORIGIN }
afterAll(async () => {
  // The functions' own pools, as poolFor made them for `env`.
  const url = { DATABASE_URL: env.DATABASE_URL }
  await poolFor(url, { max: 5 }).end()
  await poolFor(url, { applicationName: 'tollgate-stripe-webhook' }).end()
  await poolFor(url, { applicationName: 'tollgate-razorpay-webhook' }).end()
  await poolFor(url, { max: 2, applicationName: 'tollgate-notifications' }).end()
  await poolFor(url, { max: 5, applicationName: 'tollgate-metering' }).end()
})

const health = async (name: string, app: App, bindings: Record<string, string>) => {
  const response = await app.request(`/${name}`, { headers: { origin: ORIGIN } }, bindings)
  return { status: response.status, body: await response.json(), response }
}

describe('GET /functions/v1/<name>', () => {
  it.each(FUNCTIONS)('%s answers {ok, database: true} without authentication', async (name, app) => {
    const { status, body } = await health(name, app, env)
    expect({ status, body }).toEqual({ status: 200, body: { ok: true, database: true } })
  })

  it.each(FUNCTIONS)('%s answers 503 with database false when its database does not answer', async (name, app) => {
    // The log line of each failed check (stderr).
    const warn = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      const down = { ...env, DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none' }
      const { status, body } = await health(name, app, down)
      expect({ status, body }).toEqual({ status: 503, body: { ok: true, database: false } })
      const unset = await health(name, app, { TOLLGATE_REDIRECT_ORIGINS: ORIGIN, DATABASE_URL: '' })
      expect({ status: unset.status, body: unset.body }).toEqual({
        status: 503,
        body: { ok: true, database: false },
      })
    } finally {
      warn.mockRestore()
    }
  })

  it('reads as a page on an allowed origin for billing', async () => {
    const { response } = await health('billing', billing, env)
    expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN)
  })
})
