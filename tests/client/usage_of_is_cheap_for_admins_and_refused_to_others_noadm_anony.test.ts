import { describe, expect } from 'vitest'
import { ErrorCodes } from '../../packages/core/src/errors.ts'
import {
  type Caller,
  type ClientStack,
  failureOf,
  it,
  serviceKey,
  signToken,
  subscribe,
} from './support.ts'

// tollgate.usage_of(user_id) through PostgREST, and the typed client's myUsage() for an admin,
// which calls it: the usage view computes every user's rows for an admin before any filter.
let alice: Caller
it.beforeAll(async ({ stack }) => {
  alice = await stack.signIn()
  await subscribe(stack.sql, alice.id, 'pro')
  await alice.tollgate.consume('api_calls', 7)
})

const requestsSince = (stack: ClientStack, count: number) =>
  stack.postgrest.requests.slice(count).map(({ method, url }) => `${method} ${url.split('?')[0]}`)

describe('tollgate.usage_of through PostgREST', () => {
  it.for(['admin', 'service_role'] as const)(
    'answers %s a user’s usage rows, as an array ordered as asked',
    async (who, { stack }) => {
      const caller =
        who === 'admin'
          ? await stack.signIn({ admin: true })
          : stack.clientFor(await serviceKey(), 'header')
      const { data, error, status } = await caller.supabase
        .schema('tollgate')
        .rpc('usage_of', { user_id: alice.id })
        .order('metric', { ascending: false })
      expect({ error, status }).toEqual({ error: null, status: 200 })
      const rows = (data ?? []) as { user_id: string; metric: string; used: number }[]
      expect(rows.map((row) => [row.user_id, row.metric, row.used])).toEqual([
        [alice.id, 'storage_gb', 0],
        [alice.id, 'requests', 0],
        [alice.id, 'projects', 0],
        [alice.id, 'api_keys', 0],
        [alice.id, 'api_calls', 7],
      ])
    },
  )

  it('answers a signed-in user 403 NOADM, even for their own id', async () => {
    const { status, error } = await alice.supabase
      .schema('tollgate')
      .rpc('usage_of', { user_id: alice.id })
    expect({ status, code: error?.code }).toEqual({ status: 403, code: 'NOADM' })
    expect(ErrorCodes.NOADM.status).toBe(403)
  })
})

describe('myUsage() of an admin', () => {
  it('calls usage_of for the admin alone and answers their own rows', async ({ stack }) => {
    const admin = await stack.signIn({ admin: true })
    await admin.tollgate.consume('api_calls', 2)
    const before = stack.postgrest.requests.length
    expect(await admin.tollgate.myUsage()).toEqual([
      expect.objectContaining({ metric: 'api_calls', used: 2, quota: 1000, remaining: 998 }),
      expect.objectContaining({ metric: 'api_keys', used: 0, quota: 2 }),
      expect.objectContaining({ metric: 'projects', used: 0, quota: 3 }),
      expect.objectContaining({ metric: 'requests', used: 0, quota: 100 }),
      expect.objectContaining({ metric: 'storage_gb', used: 0, quota: 1 }),
    ])
    expect(requestsSince(stack, before)).toEqual(['POST /rest/v1/rpc/usage_of'])
  })

  it('is still the usage view for everyone else', async ({ stack }) => {
    const before = stack.postgrest.requests.length
    expect((await alice.tollgate.myUsage()).map((row) => [row.metric, row.used])).toEqual([
      ['api_calls', 7],
      ['api_keys', 0],
      ['projects', 0],
      ['requests', 0],
      ['storage_gb', 0],
    ])
    expect(requestsSince(stack, before)).toEqual(['GET /rest/v1/usage'])
  })
})

describe('an anonymous user (JWT is_anonymous)', () => {
  it('cannot consume (403 ANONY) but reads the plans', async ({ stack }) => {
    const user = await stack.signIn()
    const anonymous = stack.clientFor(await signToken({ ...user.claims, is_anonymous: true }))
    const error = await failureOf(anonymous.tollgate.consume('api_calls'))
    expect({ code: error.code, status: error.status }).toEqual({ code: 'ANONY', status: 403 })
    expect((await anonymous.tollgate.plans()).map((plan) => plan.id)).toEqual(
      expect.arrayContaining(['free', 'pro', 'enterprise']),
    )
    expect((await user.tollgate.myUsage()).find((row) => row.metric === 'api_calls')?.used).toBe(0)
  })
})
