import { SignJWT } from 'jose'
import Stripe from 'stripe'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createUser, ownerSql } from '../../helpers/db.ts'
import { serveWithDeno, type Served } from '../../helpers/deno.ts'

// The production entrypoints (`Deno.serve(app.fetch)`), run by Deno against the test database.
const SECRET = 'deno-functions-secret-of-at-least-32-characters'
const WEBHOOK_SECRET = 'whsec_deno_functions_test'
const sql = ownerSql()

const tokenFor = async (userId: string): Promise<string> => {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ sub: userId, role: 'authenticated', aud: 'authenticated' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(new TextEncoder().encode(SECRET))
}

let billing: Served
let webhook: Served
beforeAll(async () => {
  const env = { DATABASE_URL: inject('databaseUrl'), SUPABASE_JWT_SECRET: SECRET, SUPABASE_URL: '' }
  ;[billing, webhook] = await Promise.all([
    serveWithDeno('functions/billing/index.ts', env),
    serveWithDeno('functions/stripe-webhook/index.ts', { ...env, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET }),
  ])
}, 120_000)
afterAll(async () => {
  await Promise.all([billing?.stop(), webhook?.stop()])
  await sql.end()
})

describe('billing served by Deno', () => {
  it('refuses a request without a token (NOJWT)', async () => {
    const res = await fetch(`${billing.base}/billing/checkout`, { method: 'POST', body: '{}' })
    expect(res.status).toBe(401)
    expect(await res.json()).toHaveProperty('code', 'NOJWT')
  })

  it('switches a signed-in user to the free plan through Postgres', async () => {
    const user = await createUser(sql)
    const res = await fetch(`${billing.base}/billing/checkout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await tokenFor(user.id)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ plan_id: 'free' }),
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ subscription: null })
  })

  it('answers 503 naming the missing Stripe key (NOCFG)', async () => {
    const user = await createUser(sql)
    const res = await fetch(`${billing.base}/billing/checkout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await tokenFor(user.id)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ plan_id: 'pro' }),
    })
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ code: 'NOCFG', details: { missing: 'STRIPE_SECRET_KEY' } })
  })
})

describe('stripe-webhook served by Deno', () => {
  it('records a signed event verified with SubtleCrypto and acknowledges it', async () => {
    const id = `evt_deno_${Date.now()}`
    const body = JSON.stringify({
      id,
      object: 'event',
      type: 'product.created',
      api_version: '2026-10-28.endive',
      created: Math.floor(Date.now() / 1000),
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      data: { object: { id: 'prod_deno', object: 'product' } },
    })
    const header = await new Stripe('sk_test_unused').webhooks.generateTestHeaderStringAsync({
      payload: body,
      secret: WEBHOOK_SECRET,
    })
    const res = await fetch(`${webhook.base}/stripe-webhook`, {
      method: 'POST',
      headers: { 'stripe-signature': header, 'content-type': 'application/json' },
      body,
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ received: true })
    const [row] = await sql`
      select outcome from tollgate_private.webhook_events where provider = 'stripe' and event_id = ${id}`
    expect(row).toEqual({ outcome: 'ignored' })
  })

  it('refuses a forged signature (BADSG)', async () => {
    const res = await fetch(`${webhook.base}/stripe-webhook`, {
      method: 'POST',
      headers: { 'stripe-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` },
      body: '{}',
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toHaveProperty('code', 'BADSG')
  })
})
