import { createClient } from '@supabase/supabase-js'
import { Hono } from 'hono'
import { inject } from 'vitest'
import { afterAll, describe, expect } from 'vitest'
import {
  type AuthEnv,
  onError,
  rateLimit,
  type RateLimitVariables,
  requireUser,
  sqlLimiter,
  supabaseLimiter,
} from '../../packages/core/src/index.ts'
import { createDb } from '../../packages/db/src/client.ts'
import { asUser, serviceRoleClaims } from '../helpers/db.ts'
import { AUTH_OFF, it, JWT_SECRET, REALTIME, signToken } from './support.ts'

// An app's own edge function: one route limited per signed-in user (through supabase-js and
// PostgREST, as an edge function with SUPABASE_SERVICE_ROLE_KEY would), one per API key (on a
// direct connection, as Tollgate's own functions connect).
type AppEnv = AuthEnv & { Variables: RateLimitVariables }
const db = createDb(inject('databaseUrl'), { max: 2 })
afterAll(() => db.end())

const appFor = async (projectUrl: string) => {
  const serviceKey = await signToken(serviceRoleClaims())
  const admin = createClient(projectUrl, serviceKey, { auth: AUTH_OFF, realtime: REALTIME })
  const app = new Hono<AppEnv>()
  app.onError(onError)
  app.use('/me/*', requireUser<AppEnv>({ jwtSecret: JWT_SECRET }), rateLimit<AppEnv>({ by: 'user', limiter: () => supabaseLimiter(admin) }))
  app.get('/me/hello', (c) => c.json({ hello: c.get('user').id, remaining: c.get('rateLimit').remaining }))
  app.use('/keyed/*', rateLimit<AppEnv>({ by: 'key', scope: 'read', limiter: () => sqlLimiter(db) }))
  app.get('/keyed/hello', (c) => c.json({ owner: c.get('rateLimit').user_id, key: c.get('rateLimit').key_id }))
  return app
}

const headersOf = (response: Response) => ({
  limit: response.headers.get('x-ratelimit-limit'),
  remaining: response.headers.get('x-ratelimit-remaining'),
  reset: response.headers.get('x-ratelimit-reset'),
  retryAfter: response.headers.get('retry-after'),
})

describe('rateLimit (packages/core)', () => {
  it('counts each request of a signed-in user and answers 429 RATEL with Retry-After past the hour\'s 100', async ({ stack }) => {
    const app = await appFor(stack.url)
    const caller = await stack.signIn()
    const get = () => app.request('/me/hello', { headers: { authorization: `Bearer ${caller.token}` } })
    const first = await get()
    expect(first.status).toBe(200)
    expect(await first.json()).toEqual({ hello: caller.id, remaining: 99 })
    const nextHour = Math.ceil((Date.now() + 1) / 3_600_000) * 3600
    expect(headersOf(first)).toEqual({ limit: '100', remaining: '99', reset: String(nextHour), retryAfter: null })

    // Spend the hour but one, as 98 more requests would.
    await stack.sql`update tollgate_private.usage_counters set used = 99 where user_id = ${caller.id} and metric = 'requests'`
    const last = await get()
    expect({ status: last.status, remaining: headersOf(last).remaining }).toEqual({ status: 200, remaining: '0' })
    const refused = await get()
    expect(refused.status).toBe(429)
    expect(await refused.json()).toMatchObject({ code: 'RATEL', details: { limit: 100, reset: nextHour } })
    const headers = headersOf(refused)
    expect(headers).toMatchObject({ limit: '100', remaining: '0', reset: String(nextHour) })
    expect(Math.abs(Number(headers.retryAfter) - (nextHour - Date.now() / 1000))).toBeLessThan(5)
    const [{ used }] = await stack.sql`select used from tollgate_private.usage_counters where user_id = ${caller.id} and metric = 'requests'`
    expect(Number(used)).toBe(100)
  })

  it('counts a keyed request against the key owner, and answers 401 BDKEY / 403 KSCOP for a missing, bad or narrow key', async ({ stack }) => {
    const app = await appFor(stack.url)
    const owner = await stack.signIn()
    const [{ made }] = await asUser(stack.sql, owner, (tx) => tx`select tollgate.create_api_key('app', '{read}') as made`, { commit: true })
    const ok = await app.request('/keyed/hello', { headers: { 'x-api-key': made.key } })
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({ owner: owner.id, key: made.id })
    expect(headersOf(ok)).toMatchObject({ limit: '100', remaining: '99' })

    const missing = await app.request('/keyed/hello')
    expect({ status: missing.status, code: ((await missing.json()) as any).code }).toEqual({ status: 401, code: 'BDKEY' })
    const bad = await app.request('/keyed/hello', { headers: { authorization: `Bearer ${made.key.slice(0, -2)}xx` } })
    expect({ status: bad.status, code: ((await bad.json()) as any).code }).toEqual({ status: 401, code: 'BDKEY' })
    const [{ made: consumer }] = await asUser(stack.sql, owner, (tx) => tx`select tollgate.create_api_key('c', '{consume}') as made`, { commit: true })
    const narrow = await app.request('/keyed/hello', { headers: { 'x-api-key': consumer.key } })
    expect({ status: narrow.status, code: ((await narrow.json()) as any).code }).toEqual({ status: 403, code: 'KSCOP' })
    const [{ used }] = await stack.sql`select used from tollgate_private.usage_counters where user_id = ${owner.id} and metric = 'requests'`
    expect(Number(used)).toBe(1)
  })
})
