import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { userClaims } from '../../helpers/db.ts'
import {
  billingHarness,
  footprintOf,
  JWT_SECRET,
  signToken,
  unixNow,
  type BillingHarness,
  type Caller,
} from '../../helpers/billing.ts'

let h: BillingHarness
let caller: Caller
beforeAll(async () => {
  h = await billingHarness()
  caller = await h.signIn()
})
afterAll(() => h.close())

// A body each route would accept from a signed-in user.
const ROUTES: [string, unknown][] = [
  ['checkout', { plan_id: 'pro' }],
  ['verify-payment', { provider: 'stripe', session_id: 'cs_test_a1b2c3' }],
  ['change-plan', { plan_id: 'enterprise' }],
  ['cancel', undefined],
  ['resume', undefined],
  ['portal', {}],
]

const unsigned = (claims: Record<string, unknown>): string => {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`
}

describe('POST /billing/* without a valid access token', () => {
  it.each(ROUTES)('%s refuses a request without a token (NOJWT)', async (route, body) => {
    expect(await h.post(route, null, body)).toEqual({
      status: 401,
      body: expect.objectContaining({ code: 'NOJWT' }),
    })
  })

  it.each(ROUTES)('%s refuses tokens that are not valid (BDJWT)', async (route, body) => {
    const claims = caller.claims
    const tokens = {
      garbage: 'not-a-jwt',
      wrongSecret: await signToken(claims, 'another-secret-another-secret-another'),
      expired: await signToken({ ...claims, iat: unixNow() - 7200, exp: unixNow() - 3600 }),
      unsigned: unsigned(claims),
      tampered: `${caller.token.slice(0, -4)}AAAA`,
    }
    const answers = Object.fromEntries(
      await Promise.all(
        Object.entries(tokens).map(async ([name, token]) => {
          const answer = await h.post(route, caller, body, { token })
          return [name, { status: answer.status, code: answer.body.code }] as const
        }),
      ),
    )
    const bad = { status: 401, code: 'BDJWT' }
    expect(answers).toEqual({
      garbage: bad,
      wrongSecret: bad,
      expired: bad,
      unsigned: bad,
      tampered: bad,
    })
  })

  it.each(ROUTES)(
    '%s takes a signed anon key for nobody signed in (NOJWT)',
    async (route, body) => {
      const now = unixNow()
      const anon = await signToken({ iss: 'supabase', role: 'anon', iat: now, exp: now + 3600 })
      expect(await h.post(route, null, body, { token: anon })).toEqual({
        status: 401,
        body: expect.objectContaining({ code: 'NOJWT' }),
      })
    },
  )

  it('reaches neither Stripe nor the database for a refused caller', async () => {
    const before = h.stripe.state.requests.length
    const token = await signToken(userClaims(caller.id), 'another-secret-another-secret-another')
    for (const [route, body] of ROUTES) await h.post(route, caller, body, { token })
    expect(h.stripe.state.requests.length).toBe(before)
    expect(h.razorpay.requests).toEqual([])
    expect(await footprintOf(h.sql, caller.id)).toEqual({
      subscriptions: [],
      invoices: [],
      customers: [],
      refs: [],
      redemptions: [],
    })
  })
})

describe('POST /billing/* on a project whose JWT secret is set as TOLLGATE_JWT_SECRET', () => {
  // `supabase secrets set` refuses SUPABASE_* names, so a deployed legacy HS256 project passes its
  // secret under this name.
  const env = { SUPABASE_JWT_SECRET: undefined, TOLLGATE_JWT_SECRET: JWT_SECRET }

  it('accepts a token signed with it', async () => {
    expect(await h.post('resume', caller, undefined, { env })).toEqual({
      status: 404,
      body: expect.objectContaining({ code: 'NOSUB' }),
    })
  })

  it('still refuses a token signed with another secret (BDJWT)', async () => {
    const token = await signToken(caller.claims, 'another-secret-another-secret-another')
    expect(await h.post('resume', caller, undefined, { env, token })).toEqual({
      status: 401,
      body: expect.objectContaining({ code: 'BDJWT' }),
    })
  })

  it('answers NOCFG naming both names when no secret and no SUPABASE_URL is set', async () => {
    const none = { SUPABASE_JWT_SECRET: undefined, TOLLGATE_JWT_SECRET: undefined, SUPABASE_URL: undefined }
    expect(await h.post('resume', caller, undefined, { env: none })).toEqual({
      status: 503,
      body: expect.objectContaining({
        code: 'NOCFG',
        details: { missing: 'SUPABASE_JWT_SECRET (or TOLLGATE_JWT_SECRET) or SUPABASE_URL' },
      }),
    })
  })
})
