import { describe, expect } from 'vitest'
import { createFakePostgrest, type FakePostgrest } from '../helpers/fake-postgrest.ts'
import { appSchemaName } from '../sql/row_quota/app_table.ts'
import {
  type Caller,
  clientOfFake,
  type ClientStack,
  it,
  JWT_SECRET,
  postgrestUrl,
  serviceKey,
  signToken,
  subscribe,
} from './support.ts'

// The fake stands in for PostgREST in every client test: here it is checked against what
// PostgREST documents, so the client tests cannot pass on answers PostgREST would not give.
let user: Caller
let subscription: string
it.beforeAll(async ({ stack }) => {
  user = await stack.signIn()
  subscription = await subscribe(stack.sql, user.id, 'pro')
})

type Sent = { token?: string | null; headers?: Record<string, string>; body?: unknown }

const rest = async (stack: ClientStack, method: string, path: string, sent: Sent = {}) => {
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
  it('answers one object for vnd.pgrst.object+json, 406 PGRST116 for 0 or 2+ rows', async ({
    stack,
  }) => {
    const one = await rest(stack, 'GET', `subscriptions?select=id,plan_id&id=eq.${subscription}`, {
      headers: OBJECT,
    })
    const none = await rest(stack, 'GET', 'plans?select=id&id=eq.nothing', { headers: OBJECT })
    const many = await rest(stack, 'GET', 'plans?select=id', { headers: OBJECT })

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

  it('runs each request as the role of its token, under RLS', async ({ stack }) => {
    const path = `subscriptions?select=user_id&id=eq.${subscription}`
    const stranger = await signToken({
      ...user.claims,
      sub: '00000000-0000-4000-8000-000000000000',
    })

    expect((await rest(stack, 'GET', path)).body).toEqual([{ user_id: user.id }])
    expect((await rest(stack, 'GET', path, { token: stranger })).body).toEqual([])
    expect((await rest(stack, 'GET', path, { token: await serviceKey() })).body).toEqual([
      { user_id: user.id },
    ])
    // No token at all: anon, who may not read subscriptions (42501 → 401 for anon).
    expect(await rest(stack, 'GET', path, { token: null })).toMatchObject({
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

  it('maps database errors as PostgREST: signed-in 42501 403, a custom code 400', async ({
    stack,
  }) => {
    const privileged = await rest(stack, 'POST', 'rpc/service_role_consume_usage', {
      body: { user_id: user.id, metric: 'api_calls' },
    })
    const custom = await rest(stack, 'POST', 'rpc/consume_usage', {
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

  it('answers a RAISE SQLSTATE PGRST with the status and body it carries (NOMET 404)', async ({
    stack,
  }) => {
    const unknown = await rest(stack, 'POST', 'rpc/consume_usage', {
      body: { metric: 'no_such_metric' },
    })

    expect(unknown).toEqual({
      status: 404,
      type: 'application/json; charset=utf-8',
      body: {
        code: 'NOMET',
        message: 'Unknown metric no_such_metric',
        details: null,
        hint: 'Metrics are the ones named in tollgate.plan_limits.',
      },
    })
    expect(stack.postgrest.requests.at(-1)).toMatchObject({ status: 404, code: 'NOMET' })
  })

  it('answers a function returning rows as an array, with select and order applied', async ({
    stack,
  }) => {
    const rows = await rest(stack, 'POST', 'rpc/usage_of?select=metric,quota&order=metric.desc', {
      token: await serviceKey(),
      body: { user_id: user.id },
    })
    expect(rows).toEqual({
      status: 200,
      type: 'application/json; charset=utf-8',
      body: [
        { metric: 'storage_gb', quota: 50 },
        { metric: 'requests', quota: 1000 },
        { metric: 'projects', quota: 100 },
        { metric: 'api_keys', quota: 20 },
        { metric: 'api_calls', quota: expect.any(Number) },
      ],
    })
    expect(
      await rest(stack, 'POST', 'rpc/usage_of?limit=1', {
        token: await serviceKey(),
        body: { user_id: user.id },
      }),
    ).toMatchObject({ status: 400, body: { code: 'UNSUPPORTED' } })
  })

  it('inserts as PostgREST does: under the role’s privileges, 201 without a body', async ({
    stack,
  }) => {
    // Clients may not write tollgate.plans: the database refuses (42501), answered 403.
    expect(await rest(stack, 'POST', 'plans', { body: { id: 'mine' } })).toMatchObject({
      status: 403,
      body: { code: '42501' },
    })
    expect(
      await rest(stack, 'POST', 'plans?columns=%22id%22,%22nope%22', { body: [{ id: 'mine' }] }),
    ).toMatchObject({ status: 400, body: { code: 'PGRST204' } })
  })

  it('answers PostgREST’s own errors for unknown schemas, tables, functions and bad tokens', async ({
    stack,
  }) => {
    expect(
      await rest(stack, 'GET', 'plans', { headers: { 'accept-profile': 'tollgate_private' } }),
    ).toMatchObject({ status: 406, body: { code: 'PGRST106' } })
    expect(await rest(stack, 'GET', 'no_such_table')).toMatchObject({
      status: 404,
      body: { code: 'PGRST205' },
    })
    expect(
      await rest(stack, 'POST', 'rpc/consume_usage', { body: { metrics: 'x' } }),
    ).toMatchObject({
      status: 404,
      body: { code: 'PGRST202' },
    })
    expect(await rest(stack, 'GET', 'plans', { token: 'not.a.jwt' })).toMatchObject({
      status: 401,
      body: { code: 'PGRST301' },
    })
  })

  it('refuses request shapes it does not know with 400 UNSUPPORTED naming them', async ({
    stack,
  }) => {
    const refused = [
      await rest(stack, 'GET', 'plans?select=id&limit=1'),
      await rest(stack, 'GET', 'plans?select=id&id=like.pro*'),
      await rest(stack, 'GET', 'plans?select=id::text'),
      await rest(stack, 'GET', 'plans', { headers: { prefer: 'count=exact' } }),
      await rest(stack, 'GET', 'plans', { headers: { accept: 'text/csv' } }),
      await rest(stack, 'GET', 'plans', { headers: { 'accept-profile': 'public' } }),
      await rest(stack, 'PATCH', 'plans?id=eq.pro', { body: { name: 'Mine' } }),
      await rest(stack, 'POST', 'plans', {
        body: { id: 'mine' },
        headers: { prefer: 'return=representation' },
      }),
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

// PostgREST's parseRaisePGRST: the message a JSON object with string code and message, the
// detail a JSON object with an integer status and a headers object; else 500 PGRST121.
describe('the fake PostgREST and RAISE SQLSTATE PGRST', () => {
  const schema = appSchemaName()
  let raising: FakePostgrest
  it.beforeAll(async ({ stack }) => {
    await stack.sql.unsafe(`
      create schema ${schema};
      grant usage on schema ${schema} to authenticated;
      create function ${schema}.raise_pgrst(message text, detail text) returns integer
      language plpgsql set search_path = '' as $$
      begin
        raise sqlstate 'PGRST' using message = raise_pgrst.message, detail = raise_pgrst.detail;
      end;
      $$;
      grant execute on function ${schema}.raise_pgrst(text, text) to authenticated;
    `)
    raising = createFakePostgrest({
      databaseUrl: postgrestUrl(),
      jwtSecret: JWT_SECRET,
      schemas: [schema],
      served: schema,
    })
  })
  it.afterAll(async ({ stack }) => {
    await raising?.close()
    await stack.sql.unsafe(`drop schema if exists ${schema} cascade`)
  })

  const raise = async (message: unknown, detail: unknown) => {
    const app = await clientOfFake(raising, user.token, schema)
    const text = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value))
    const { status, error } = await app.rpc('raise_pgrst', {
      message: text(message),
      detail: text(detail),
    })
    return { status, error }
  }

  it('answers the status, headers and body the error carries', async () => {
    const body = { code: 'QUOTA', message: 'Used up', details: '3 of 3', hint: 'Upgrade' }
    const answer = await raise(body, { status: 429, headers: { 'Retry-After': '60' } })
    expect(answer).toMatchObject({ status: 429, error: body })
    const response = await raising.fetch(
      new Request(`http://fake.test/rest/v1/rpc/raise_pgrst`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${user.token}`,
          'content-profile': schema,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          message: JSON.stringify({ code: 'QUOTA', message: 'Used up' }),
          detail: JSON.stringify({ status: 429, headers: { 'Retry-After': '60' } }),
        }),
      }),
    )
    expect(response.status).toBe(429)
    expect(response.headers.get('retry-after')).toBe('60')
    expect(await response.json()).toEqual({
      code: 'QUOTA',
      message: 'Used up',
      details: null,
      hint: null,
    })
  })

  it.each([
    ['a message that is not JSON', 'Used up', { status: 429, headers: {} }],
    ['a message without a code', { message: 'Used up' }, { status: 429, headers: {} }],
    ['a detail without headers', { code: 'QUOTA', message: 'Used up' }, { status: 429 }],
    ['a textual status', { code: 'QUOTA', message: 'x' }, { status: '429', headers: {} }],
  ])('answers 500 PGRST121 for %s', async (_name, message, detail) => {
    expect(await raise(message, detail)).toMatchObject({
      status: 500,
      error: { code: 'PGRST121' },
    })
  })
})
