import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { app } from '../../../functions/billing/app.ts'
import {
  billingHarness,
  footprintOf,
  ORIGIN,
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

const ROUTES = ['checkout', 'verify-payment', 'change-plan', 'cancel', 'resume', 'portal']
const FOREIGN = 'https://evil.example.test'
const EXPOSED = ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'Retry-After']
const SUPABASE_JS_HEADERS = ['authorization', 'apikey', 'content-type', 'x-client-info', 'x-region']

// What a browser sends before a supabase-js functions.invoke from `origin`.
const preflight = (route: string, origin: string, env: Record<string, string | undefined> = {}) =>
  app.request(
    `/billing/${route}`,
    {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,apikey,content-type,x-client-info',
      },
    },
    { ...h.env, ...env },
  )

const listOf = (value: string | null): string[] =>
  (value ?? '').split(',').map((item) => item.trim().toLowerCase()).filter(Boolean)

const corsHeadersOf = (response: Response): Record<string, string> =>
  Object.fromEntries([...response.headers].filter(([name]) => name.startsWith('access-control-')))

describe('a browser page on an allowed origin (TOLLGATE_REDIRECT_ORIGINS by default)', () => {
  it.each(ROUTES)('gets its preflight of %s answered before any authentication', async (route) => {
    const response = await preflight(route, ORIGIN)
    expect(response.status).toBeGreaterThanOrEqual(200)
    expect(response.status).toBeLessThan(300)
    expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect(listOf(response.headers.get('vary'))).toContain('origin')
    expect(listOf(response.headers.get('access-control-allow-methods'))).toEqual(['get', 'post', 'options'])
    expect(listOf(response.headers.get('access-control-allow-headers'))).toEqual(
      expect.arrayContaining([...SUPABASE_JS_HEADERS, 'x-api-key']),
    )
  })

  it('reads every answer, errors included, and the rate-limit headers', async () => {
    const headers = { origin: ORIGIN }
    const answers = {
      ok: await h.post('checkout', caller, { plan_id: 'free' }, { headers }),
      noToken: await h.post('checkout', null, { plan_id: 'free' }, { headers }),
      notFound: await h.post('no-such-route', caller, {}, { headers }),
      badRequest: await h.post('checkout', caller, { plan_id: 42 }, { headers }),
    }
    expect(Object.fromEntries(Object.entries(answers).map(([name, a]) => [name, a.status]))).toEqual({
      ok: 200,
      noToken: 401,
      notFound: 404,
      badRequest: 400,
    })
    for (const route of ['checkout', 'no-such-route']) {
      for (const token of [caller.token, null]) {
        const response = await app.request(
          `/billing/${route}`,
          {
            method: 'POST',
            headers: { origin: ORIGIN, ...(token ? { authorization: `Bearer ${token}` } : {}) },
            body: '{"plan_id":"free"}',
          },
          h.env,
        )
        expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN)
        expect(listOf(response.headers.get('access-control-expose-headers'))).toEqual(
          EXPOSED.map((name) => name.toLowerCase()),
        )
        expect(listOf(response.headers.get('vary'))).toContain('origin')
      }
    }
  })

  it('reads a 500 from onError too', async () => {
    // The unreachable database is logged as our failure.
    const stderr = vi.spyOn(console, 'error').mockImplementation(() => {})
    const response = await app.request(
      '/billing/resume',
      { method: 'POST', headers: { origin: ORIGIN, authorization: `Bearer ${caller.token}` } },
      { ...h.env, DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none' },
    )
    stderr.mockRestore()
    expect(response.status).toBe(500)
    expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN)
  })
})

describe('TOLLGATE_ALLOWED_ORIGINS', () => {
  const env = { TOLLGATE_ALLOWED_ORIGINS: 'http://127.0.0.1:5173, https://other.example.test' }

  it('replaces the redirect origins as the allowed ones', async () => {
    const allowed = await preflight('checkout', 'http://127.0.0.1:5173', env)
    expect(allowed.status).toBe(204)
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:5173')
    expect(corsHeadersOf(await preflight('checkout', ORIGIN, env))).toEqual({})
  })
})

describe('a page on any other origin', () => {
  it('gets no Access-Control-* header on its preflight, which then meets authentication', async () => {
    for (const origin of [FOREIGN, 'null', `${ORIGIN}:8443`, ORIGIN.replace('https', 'http')]) {
      const response = await preflight('checkout', origin)
      expect({ origin, cors: corsHeadersOf(response) }).toEqual({ origin, cors: {} })
      expect(response.status).toBe(401)
    }
  })

  it('gets none on answers either, and its preflight changes nothing', async () => {
    const stranger = await h.signIn()
    await preflight('checkout', FOREIGN)
    const answer = await app.request(
      '/billing/checkout',
      {
        method: 'POST',
        headers: { origin: FOREIGN, authorization: `Bearer ${stranger.token}` },
        body: '{"plan_id":"free"}',
      },
      h.env,
    )
    expect(corsHeadersOf(answer)).toEqual({})
    expect(await footprintOf(h.sql, stranger.id)).toEqual({
      subscriptions: [],
      invoices: [],
      customers: [],
      refs: [],
      redemptions: [],
    })
  })
})
