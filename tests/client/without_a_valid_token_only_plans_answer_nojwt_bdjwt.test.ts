import { describe, expect } from 'vitest'
import type { Tollgate } from '../../packages/client/src/index.ts'
import { userClaims } from '../helpers/db.ts'
import { type Caller, type ClientStack, failureOf, it, serviceKey, signToken } from './support.ts'

let user: Caller
it.beforeAll(async ({ stack }) => {
  user = await stack.signIn()
})

const MY_CALLS = ['mySubscription', 'myUsage', 'myInvoices'] as const

describe('a client nobody is signed in to', () => {
  it('reads the plans as anon', async ({ stack }) => {
    const { tollgate } = stack.clientFor(null)
    expect((await tollgate.plans()).map((plan) => plan.id)).toEqual(
      expect.arrayContaining(['free', 'pro', 'enterprise']),
    )
    expect(stack.postgrest.requests.at(-1)).toMatchObject({ role: 'anon', status: 200 })
  })

  it.for(MY_CALLS)(
    'gets NOJWT (401) from %s() without asking the server',
    async (call, { stack }) => {
      const { tollgate } = stack.clientFor(null)
      const before = stack.postgrest.requests.length

      const error = await failureOf(tollgate[call]())

      expect(error.toJSON()).toEqual({
        code: 'NOJWT',
        message: 'Sign in first',
        details: null,
        hint: null,
      })
      expect(error.status).toBe(401)
      expect(stack.postgrest.requests.length).toBe(before)
    },
  )

  it('gets NOJWT (401) from consume(), which PostgREST refuses the anon role (42501)', async ({
    stack,
  }) => {
    const { tollgate } = stack.clientFor(null)

    const error = await failureOf(tollgate.consume('api_calls'))

    expect(error).toMatchObject({
      code: 'NOJWT',
      status: 401,
      details: { postgrest: expect.objectContaining({ code: '42501' }) },
    })
    expect(stack.postgrest.requests.at(-1)).toMatchObject({ role: 'anon', status: 401 })
  })

  it('gets NOJWT (401) from a server holding the service_role key, which is nobody', async ({
    stack,
  }) => {
    const { tollgate } = stack.clientFor(await serviceKey(), 'header')
    await expect(tollgate.mySubscription()).rejects.toMatchObject({ code: 'NOJWT', status: 401 })
  })
})

describe('a client whose token PostgREST rejects', () => {
  const rejected = async (stack: ClientStack, tollgate: Tollgate, why: string) => {
    for (const call of [() => tollgate.mySubscription(), () => tollgate.consume('api_calls')]) {
      const error = await failureOf(call())
      expect(error).toMatchObject({
        code: 'BDJWT',
        status: 401,
        details: { postgrest: expect.objectContaining({ code: 'PGRST301', message: why }) },
      })
    }
    expect(stack.postgrest.requests.at(-1)).toMatchObject({ role: null, status: 401 })
  }

  it('gets BDJWT (401) for an expired token (PGRST301)', async ({ stack }) => {
    const expired = await signToken({
      ...userClaims(user.id),
      exp: Math.floor(Date.now() / 1000) - 60,
    })
    await rejected(stack, stack.clientFor(expired, 'accessToken').tollgate, 'JWT expired')
  })

  it('gets BDJWT (401) for a token signed with another secret (PGRST301)', async ({ stack }) => {
    const forged = await signToken(userClaims(user.id), 'not-the-project-secret-0123456789abcdef')
    await rejected(
      stack,
      stack.clientFor(forged, 'header').tollgate,
      'JWSError JWSInvalidSignature',
    )
  })
})
