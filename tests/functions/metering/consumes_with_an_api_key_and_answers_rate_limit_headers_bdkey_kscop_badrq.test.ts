import { afterAll, describe, expect } from 'vitest'
import { asUser } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'
import { call, endPool, makeKey, rateHeaders } from './support.ts'

afterAll(endPool)

const post = (key: string | null, body: unknown, headers: Record<string, string> = {}) =>
  call('/consume', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { 'x-api-key': key } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })

describe('POST /metering/consume', () => {
  it('consumes for the key owner (x-api-key or Bearer) with X-RateLimit-* on the answer', async ({ sql, user }) => {
    const { key } = await makeKey(sql, user)
    const first = await post(key, { metric: 'api_calls', amount: 3, idempotency_key: 'once', metadata: { endpoint: '/v1/x' } })
    expect(first.status).toBe(200)
    expect(first.body).toMatchObject({ allowed: true, metric: 'api_calls', used: 3, quota: 1000, remaining: 997 })
    const nextHour = Math.ceil((Date.now() + 1) / 3_600_000) * 3600
    expect(rateHeaders(first.headers)).toEqual({ limit: '100', remaining: '99', reset: String(nextHour), retryAfter: null })

    // The same idempotency key counts the usage once, but it was a second request.
    const again = await post(null, { metric: 'api_calls', amount: 3, idempotency_key: 'once' }, { authorization: `Bearer ${key}` })
    expect(again.status).toBe(200)
    expect(again.body).toMatchObject({ used: 3 })
    expect(rateHeaders(again.headers).remaining).toBe('98')

    const [{ metadata }] = await sql`select metadata from tollgate_private.usage_events where user_id = ${user.id} and metric = 'api_calls'`
    expect(metadata).toEqual({ endpoint: '/v1/x' })
  })

  it('answers a refused consume 200 allowed false, counted as a request', async ({ sql, user }) => {
    const { key } = await makeKey(sql, user)
    const refused = await post(key, { metric: 'api_calls', amount: 5000 })
    expect(refused.status).toBe(200)
    expect(refused.body).toMatchObject({ allowed: false, used: 0 })
    expect(rateHeaders(refused.headers).remaining).toBe('99')
  })

  it('refuses a missing, bad or revoked key with 401 BDKEY and counts nothing', async ({ sql, user }) => {
    const { id, key } = await makeKey(sql, user)
    const none = await post(null, { metric: 'api_calls' })
    expect(none.status).toBe(401)
    expect(none.body).toMatchObject({ code: 'BDKEY' })
    // A user's JWT is not a key.
    const jwt = await post(null, { metric: 'api_calls' }, { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.x' })
    expect(jwt.body.code).toBe('BDKEY')
    const bad = await post(key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A'), { metric: 'api_calls' })
    expect({ status: bad.status, body: bad.body }).toEqual({
      status: 401,
      body: { code: 'BDKEY', message: 'The API key is invalid, revoked or expired', details: null, hint: null },
    })
    await asUser(sql, user, (tx) => tx`select tollgate.revoke_api_key(${id})`, { commit: true })
    const revoked = await post(key, { metric: 'api_calls' })
    expect(revoked.status).toBe(401)
    const rows = await sql`select metric, used from tollgate_private.usage_counters where user_id = ${user.id} and metric in ('api_calls', 'requests')`
    expect(rows.every((r) => Number(r.used) === 0)).toBe(true)
  })

  it('answers bad input with its error and the headers, counting nothing (BADRQ, NOMET, INAMT, KSCOP)', async ({ sql, user }) => {
    const { key } = await makeKey(sql, user)
    for (const body of ['{not json', { metric: 'Bad Metric' }, { metric: 'api_calls', amount: 0 }, { metric: 'api_calls', extra: 1 }]) {
      const answer = await post(key, body)
      expect(answer.status).toBe(400)
      expect(answer.body.code).toBe('BADRQ')
      expect(rateHeaders(answer.headers)).toMatchObject({ limit: '100', remaining: '100' })
    }
    const unknown = await post(key, { metric: 'no_such_metric' })
    expect(unknown.status).toBe(404)
    expect(unknown.body).toMatchObject({ code: 'NOMET' })
    expect(rateHeaders(unknown.headers).remaining).toBe('100')

    const reader = await makeKey(sql, user, ['read'])
    const scoped = await post(reader.key, { metric: 'api_calls' })
    expect(scoped.status).toBe(403)
    expect(scoped.body.code).toBe('KSCOP')
    const [{ n }] = await sql`select count(*)::int as n from tollgate_private.usage_events where user_id = ${user.id} and metric <> 'api_keys'`
    expect(n).toBe(0)
  })
})

describe('GET /metering/usage', () => {
  it('answers the owner usage rows with the headers, for a key with read', async ({ sql, user }) => {
    const { key } = await makeKey(sql, user, ['read'])
    const answer = await call('/usage', { headers: { 'x-api-key': key } })
    expect(answer.status).toBe(200)
    expect(answer.body.map((r: any) => r.metric)).toEqual(['api_calls', 'api_keys', 'projects', 'requests', 'storage_gb'])
    expect(answer.body.find((r: any) => r.metric === 'requests')).toMatchObject({ used: 1, quota: 100, remaining: 99, period: 'hour' })
    expect(answer.body.find((r: any) => r.metric === 'api_keys')).toMatchObject({ used: 1, quota: 2 })
    expect(answer.body[0]).not.toHaveProperty('user_id')
    expect(rateHeaders(answer.headers)).toMatchObject({ limit: '100', remaining: '99' })
  })
})
