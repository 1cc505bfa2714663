import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { app } from '../../../functions/notifications/app.ts'
import { poolFor } from '../../../packages/db/src/client.ts'
import { createUser, type TestUser } from '../../helpers/db.ts'
import { createFakeResend, type FakeResend } from '../../helpers/fake-resend.ts'
import { JWT_SECRET, signToken, unixNow } from '../../helpers/billing.ts'
import { makeStripeEvent } from '../../helpers/stripe/events.ts'
import { newWorld, nowSeconds, subscriptionFixture } from '../../helpers/stripe/fixtures.ts'
import { applyEvent } from '../../sql/apply_stripe_event/support.ts'
import { buildScratch, type Built } from '../../schema/scratch.ts'

// A database of its own: the worker sends every due email of its database, and other test files
// commit notifications of their own into the shared one.
const external = inject('externalDatabase')
let db: Built
let resend: FakeResend
let env: Record<string, string>
const T = nowSeconds() - 3600

beforeAll(async () => {
  db = await buildScratch('migrations', { seed: true })
  resend = await createFakeResend()
  env = {
    DATABASE_URL: db.url,
    SUPABASE_JWT_SECRET: JWT_SECRET,
    RESEND_API_KEY: resend.apiKey,
    RESEND_API_BASE: resend.url,
    TOLLGATE_EMAIL_FROM: 'Acme Billing <billing@acme.test>',
    TOLLGATE_APP_URL: 'https://app.acme.test',
  }
})

afterAll(async () => {
  await poolFor({ DATABASE_URL: db.url }, { max: 2, applicationName: 'tollgate-notifications' }).end()
  await resend?.close()
  await db?.close()
})

const serviceToken = () =>
  signToken({ role: 'service_role', iss: 'supabase', iat: unixNow(), exp: unixNow() + 600 })

const dispatch = async (token: string | null, bindings = env) => {
  const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` }
  const response = await app.request('/notifications/dispatch', { method: 'POST', headers }, bindings)
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

/** The past_due event of a user's Stripe subscription, applied as the webhook applies it. */
const failRenewal = async (user: TestUser, times: number) => {
  const world = newWorld(user.id)
  await db.sql.begin(async (tx) => {
    await applyEvent(
      tx,
      makeStripeEvent('customer.subscription.created', subscriptionFixture(world, { periodStart: T }), {
        created: T,
      }),
    )
  })
  const pastDue = makeStripeEvent(
    'customer.subscription.updated',
    subscriptionFixture(world, { periodStart: T, status: 'past_due' }),
    { created: T + 60 },
  )
  for (let i = 0; i < times; i++) await db.sql.begin((tx) => applyEvent(tx, pastDue))
}

const outboxOf = (user: TestUser) =>
  db.sql<{ state: string; attempts: number; provider_message_id: string | null }[]>`
    select state, attempts, provider_message_id from tollgate_private.email_outbox where user_id = ${user.id}`

describe.skipIf(external)('POST /notifications/dispatch', () => {
  it('sends one email for a failed payment delivered three times, with one Idempotency-Key, then nothing more', async () => {
    const user = await createUser(db.sql)
    await failRenewal(user, 3)
    // At once, as the user reads it through PostgREST.
    const seen = await db.sql.begin(async (tx) => {
      await tx`select pg_catalog.set_config('role', 'authenticated', true),
        pg_catalog.set_config('request.jwt.claims', ${JSON.stringify(user.claims)}, true)`
      return tx<{ kind: string }[]>`select kind from tollgate.notifications`
    })
    expect(seen.map((r) => r.kind)).toEqual(['payment_failed'])

    const first = await dispatch(await serviceToken())
    expect(first).toEqual({ status: 200, body: { sent: 1, failed: 0, pending: 0 } })
    const mail = resend.sent.filter((m) => m.to.includes(user.email))
    expect(mail).toHaveLength(1)
    expect(mail[0]?.subject).toMatch(/payment/i)
    expect(mail[0]?.from).toBe('Acme Billing <billing@acme.test>')
    expect(mail[0]?.idempotencyKey).toMatch(/^tollgate-notification\/[0-9a-f-]{36}$/)
    expect(await outboxOf(user)).toEqual([
      { state: 'sent', attempts: 1, provider_message_id: mail[0]?.id ?? '' },
    ])
    expect(await dispatch(await serviceToken())).toEqual({
      status: 200,
      body: { sent: 0, failed: 0, pending: 0 },
    })
  })

  it('two dispatchers at once send each email once', async () => {
    const user = await createUser(db.sql)
    for (let i = 0; i < 12; i++) {
      await db.sql`select tollgate_private.notify(${user.id}, 'plan_changed', ${`both-${i}`}, 'T', 'B',
        ${db.sql.json({ plan_id: 'pro', plan_name: 'Pro' })})`
    }
    const [a, b] = await Promise.all([
      dispatch(await serviceToken()),
      dispatch(await serviceToken()),
    ])
    expect((a.body.sent as number) + (b.body.sent as number)).toBe(12)
    const mine = resend.sent.filter((m) => m.to.includes(user.email))
    expect(mine).toHaveLength(12)
    expect(new Set(mine.map((m) => m.idempotencyKey)).size).toBe(12)
    expect(resend.requests.filter((r) => r.replayed).length).toBe(0)
  })

  it('an outage delays an email and loses none: retried with backoff, sent once when Resend is back', async () => {
    const user = await createUser(db.sql)
    await db.sql`select tollgate_private.notify(${user.id}, 'plan_changed', 'outage', 'T', 'B',
      ${db.sql.json({ plan_id: 'pro', plan_name: 'Pro', previous_plan_id: 'free' })})`
    resend.fail({ status: 503 }, 1)
    const warn = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      expect((await dispatch(await serviceToken())).body).toMatchObject({ sent: 0, failed: 1 })
    } finally {
      warn.mockRestore()
    }
    const [failed] = await db.sql<{ state: string; due_later: boolean; last_error: string }[]>`
      select state, next_attempt_at > now() as due_later, last_error from tollgate_private.email_outbox
      where user_id = ${user.id}`
    expect(failed).toMatchObject({ state: 'failed', last_error: expect.stringMatching(/503/) })
    // Not due yet: the next dispatch leaves it; once due, it is sent.
    if (failed?.due_later) expect((await dispatch(await serviceToken())).body).toMatchObject({ sent: 0 })
    await db.sql`update tollgate_private.email_outbox set next_attempt_at = now() where user_id = ${user.id}`
    expect((await dispatch(await serviceToken())).body).toEqual({ sent: 1, failed: 0, pending: 0 })
    expect(resend.sent.filter((m) => m.to.includes(user.email))).toHaveLength(1)
    expect((await outboxOf(user))[0]).toMatchObject({ state: 'sent', attempts: 2 })
  })

  it('a refusal retrying cannot fix is dead at once', async () => {
    const user = await createUser(db.sql)
    await db.sql`select tollgate_private.notify(${user.id}, 'plan_changed', 'refused', 'T', 'B', '{}')`
    resend.fail({ status: 422, name: 'validation_error', message: 'Invalid `to` field' }, 1)
    const warn = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      expect((await dispatch(await serviceToken())).body).toMatchObject({ sent: 0, failed: 1 })
    } finally {
      warn.mockRestore()
    }
    expect((await outboxOf(user))[0]).toMatchObject({ state: 'dead', attempts: 1 })
  })

  it('answers 401 NOJWT without a token, 401 BDJWT for a bad one, 403 NOADM for a user, and sends nothing', async () => {
    const before = resend.requests.length
    expect(await dispatch(null)).toMatchObject({ status: 401, body: { code: 'NOJWT' } })
    expect(await dispatch('not.a.jwt')).toMatchObject({ status: 401, body: { code: 'BDJWT' } })
    const userToken = await signToken({
      sub: crypto.randomUUID(),
      role: 'authenticated',
      aud: 'authenticated',
      iat: unixNow(),
      exp: unixNow() + 600,
    })
    expect(await dispatch(userToken)).toMatchObject({ status: 403, body: { code: 'NOADM' } })
    expect(resend.requests.length).toBe(before)
  })

  it('without RESEND_API_KEY logs each email instead of sending it', async () => {
    const user = await createUser(db.sql)
    await db.sql`select tollgate_private.notify(${user.id}, 'quota_warning', 'logged', 'T', 'B',
      ${db.sql.json({ metric: 'api_calls', used: 800, quota: 1000 })})`
    const before = resend.requests.length
    const info = vi.spyOn(console, 'error').mockImplementation(() => {})
    const { RESEND_API_KEY: _key, ...withoutKey } = env
    try {
      expect((await dispatch(await serviceToken(), withoutKey)).body).toMatchObject({ sent: 1 })
    } finally {
      info.mockRestore()
    }
    expect(resend.requests.length).toBe(before)
    expect((await outboxOf(user))[0]).toMatchObject({ state: 'sent', provider_message_id: 'logged' })
  })
})
