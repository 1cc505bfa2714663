import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type Caller,
  type ClientStack,
  serviceKey,
  signToken,
  startClientStack,
  subscribe,
} from './support.ts'

// The fake stands in for PostgREST in every client test: here it is checked against what
// PostgREST documents, so the client tests cannot pass on answers PostgREST would not give.
let stack: ClientStack
let user: Caller
let subscription: string
beforeAll(async () => {
  stack = await startClientStack()
  user = await stack.signIn()
  subscription = await subscribe(stack.sql, user.id, 'pro')
})
afterAll(() => stack.close())

type Sent = { token?: string | null; headers?: Record<string, string>; body?: unknown }

const rest = async (method: string, path: string, sent: Sent = {}) => {
  const token = sent.token === undefined ? user.token : sent.token
  const profile = method === 'GET' ? 'accept-profile' : 'content-profile'
  const response = await fetch(`${stack.url}/rest/v1/${path}`, {
    method,
    headers: {
      apikey: stack.anonKey,
      [profile]: 'tollgate',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(sent.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...sent.headers,
    },
    ...(sent.body === undefined ? {} : { body: JSON.stringify(sent.body) }),
  })
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: (await response.json()) as any,
  }
}

const OBJECT = { accept: 'application/vnd.pgrst.object+json' }

describe('the fake PostgREST', () => {
  it('answers one object for vnd.pgrst.object+json, 406 PGRST116 for 0 or 2+ rows', async () => {
    const one = await rest('GET', `subscriptions?select=id,plan_id&id=eq.${subscription}`, {
      headers: OBJECT,
    })
    const none = await rest('GET', 'plans?select=id&id=eq.nothing', { headers: OBJECT })
    const many = await rest('GET', 'plans?select=id', { headers: OBJECT })

    expect(one).toEqual({
      status: 200,
      type: 'application/vnd.pgrst.object+json; charset=utf-8',
      body: { id: subscription, plan_id: 'pro' },
    })
    expect(none).toMatchObject({
      status: 406,
      body: { code: 'PGRST116', details: 'The result contains 0 rows', hint: null },
    })
    expect(many).toMatchObject({ status: 406, body: { code: 'PGRST116' } })
  })

  it('runs each request as the role of its token, under RLS', async () => {
    const path = `subscriptions?select=user_id&id=eq.${subscription}`
    const stranger = await signToken({
      ...user.claims,
      sub: '00000000-0000-4000-8000-000000000000',
    })

    expect((await rest('GET', path)).body).toEqual([{ user_id: user.id }])
    expect((await rest('GET', path, { token: stranger })).body).toEqual([])
    expect((await rest('GET', path, { token: await serviceKey() })).body).toEqual([
      { user_id: user.id },
    ])
    // No token at all: anon, who may not read subscriptions (42501 → 401 for anon).
    expect(await rest('GET', path, { token: null })).toMatchObject({
      status: 401,
      body: { code: '42501' },
    })
    expect(stack.postgrest.requests.slice(-4).map((r) => r.role)).toEqual([
      'authenticated',
      'authenticated',
      'service_role',
      'anon',
    ])
  })

  it('maps database errors as PostgREST does: 403 for a signed-in 42501, 400 for our codes', async () => {
    const privileged = await rest('POST', 'rpc/service_role_consume_usage', {
      body: { user_id: user.id, metric: 'api_calls' },
    })
    const custom = await rest('POST', 'rpc/consume_usage', {
      body: { metric: 'api_calls', amount: 0 },
    })

    expect(privileged).toMatchObject({ status: 403, body: { code: '42501' } })
    expect(custom).toEqual({
      status: 400,
      type: 'application/json; charset=utf-8',
      body: {
        code: 'INAMT',
        message: 'amount must be a whole number greater than 0',
        details: 'got 0',
        hint: null,
      },
    })
  })

  it('answers PostgREST’s own errors for unknown schemas, tables, functions and bad tokens', async () => {
    expect(
      await rest('GET', 'plans', { headers: { 'accept-profile': 'tollgate_private' } }),
    ).toMatchObject({ status: 406, body: { code: 'PGRST106' } })
    expect(await rest('GET', 'no_such_table')).toMatchObject({
      status: 404,
      body: { code: 'PGRST205' },
    })
    expect(await rest('POST', 'rpc/consume_usage', { body: { metrics: 'x' } })).toMatchObject({
      status: 404,
      body: { code: 'PGRST202' },
    })
    expect(await rest('GET', 'plans', { token: 'not.a.jwt' })).toMatchObject({
      status: 401,
      body: { code: 'PGRST301' },
    })
  })

  it('refuses request shapes it does not know with 400 UNSUPPORTED naming them', async () => {
    const refused = [
      await rest('GET', 'plans?select=id&limit=1'),
      await rest('GET', 'plans?select=id&id=like.pro*'),
      await rest('GET', 'plans?select=id::text'),
      await rest('GET', 'plans', { headers: { prefer: 'count=exact' } }),
      await rest('GET', 'plans', { headers: { accept: 'text/csv' } }),
      await rest('GET', 'plans', { headers: { 'accept-profile': 'public' } }),
      await rest('PATCH', 'plans?id=eq.pro', { body: { name: 'Mine' } }),
      await rest('POST', 'plans', { body: { id: 'mine' } }),
    ]

    for (const answer of refused) {
      expect(answer).toMatchObject({
        status: 400,
        body: { code: 'UNSUPPORTED', message: expect.stringMatching(/does not support \S/) },
      })
    }
    expect(refused[1]?.body.message).toContain('id=like.pro*')
    expect(refused[6]?.body.message).toContain('PATCH /rest/v1/plans')
  })
})
