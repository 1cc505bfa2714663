import { describe, expect } from 'vitest'
import {
  type CheckoutBody,
  createTollgate,
  type VerifyPaymentBody,
} from '../../packages/client/src/index.ts'
import { userClaims } from '../helpers/db.ts'
import { failureOf, it, signToken, subscribe } from './support.ts'

// The local stack's functions with no provider configured (every provider setting unset).

describe('billing calls through supabase-js functions.invoke', () => {
  it('checkout of the free plan ends a live subscription at once; with none it answers null', async ({
    stack,
  }) => {
    const caller = await stack.signIn()
    expect(await caller.tollgate.checkout({ plan_id: 'free' })).toEqual({ subscription: null })

    const id = await subscribe(stack.sql, caller.id, 'pro')
    const answer = await caller.tollgate.checkout({ plan_id: 'free' })

    expect(answer).toEqual({
      subscription: expect.objectContaining({ id, plan_id: 'pro', status: 'canceled' }),
    })
    expect(await caller.tollgate.mySubscription()).toBeNull()
    expect(stack.strays).toEqual([])
  })

  it('cancels at the period end and resumes a subscription Tollgate granted itself', async ({
    stack,
  }) => {
    const caller = await stack.signIn()
    const id = await subscribe(stack.sql, caller.id, 'pro')

    const canceled = await caller.tollgate.cancel()
    expect(canceled).toEqual({
      subscription: expect.objectContaining({ id, status: 'active', cancel_at_period_end: true }),
    })
    expect(await caller.tollgate.mySubscription()).toEqual(canceled.subscription)

    const resumed = await caller.tollgate.resume()
    expect(resumed).toEqual({
      subscription: expect.objectContaining({ id, status: 'active', cancel_at_period_end: false }),
    })
    expect(await caller.tollgate.mySubscription()).toEqual(resumed.subscription)
  })

  it('answers NOSUB (404) to cancel and resume without a live subscription', async ({ stack }) => {
    const { tollgate } = await stack.signIn()
    for (const call of [tollgate.cancel, tollgate.resume]) {
      const error = await failureOf(call())
      expect(error.toJSON()).toEqual({
        code: 'NOSUB',
        message: 'You have no live subscription',
        details: null,
        hint: null,
      })
      expect(error.status).toBe(404)
    }
  })

  it('answers NOCFG (503) naming the setting for a provider that is not configured', async ({
    stack,
  }) => {
    const { id, tollgate } = await stack.signIn()
    const missing = (name: string) => ({ code: 'NOCFG', status: 503, details: { missing: name } })

    expect(await failureOf(tollgate.checkout({ plan_id: 'pro' }))).toMatchObject(
      missing('STRIPE_SECRET_KEY'),
    )
    expect(
      await failureOf(tollgate.checkout({ plan_id: 'pro', provider: 'razorpay' })),
    ).toMatchObject(missing('RAZORPAY_KEY_ID'))
    expect(await failureOf(tollgate.changePlan('enterprise'))).toMatchObject(
      missing('STRIPE_SECRET_KEY'),
    )
    expect(await failureOf(tollgate.portal())).toMatchObject(missing('STRIPE_SECRET_KEY'))
    expect(
      await failureOf(tollgate.verifyPayment({ provider: 'stripe', session_id: 'cs_test_1' })),
    ).toMatchObject(missing('STRIPE_SECRET_KEY'))
    // Refused before anything was reserved or written.
    expect(await stack.sql`select id from tollgate.subscriptions where user_id = ${id}`).toEqual([])
  })

  it('answers NOPLN (404) for a plan that does not exist', async ({ stack }) => {
    const { tollgate } = await stack.signIn()
    await expect(tollgate.checkout({ plan_id: 'platinum' })).rejects.toMatchObject({
      code: 'NOPLN',
      status: 404,
    })
  })

  it('answers BADRQ (400) with the invalid fields for a malformed body', async ({ stack }) => {
    const { tollgate } = await stack.signIn()

    const checkout = await failureOf(tollgate.checkout({ plan: 'pro' } as unknown as CheckoutBody))
    const verify = await failureOf(
      tollgate.verifyPayment({ provider: 'paypal' } as unknown as VerifyPaymentBody),
    )

    expect(checkout).toMatchObject({ code: 'BADRQ', status: 400, message: 'Invalid request' })
    expect(checkout.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: ['plan_id'] })]),
    )
    expect(verify).toMatchObject({
      code: 'BADRQ',
      status: 400,
      details: [expect.objectContaining({ path: ['provider'] })],
    })
  })

  it('answers NOJWT (401) to a client nobody is signed in to, BDJWT (401) to a forged token', async ({
    stack,
  }) => {
    const anonymous = stack.clientFor(null).tollgate
    const forged = stack.clientFor(
      await signToken(
        userClaims('00000000-0000-4000-8000-000000000001'),
        'another-secret-0123456789',
      ),
      'accessToken',
    ).tollgate

    await expect(anonymous.checkout({ plan_id: 'free' })).rejects.toMatchObject({
      code: 'NOJWT',
      status: 401,
    })
    await expect(anonymous.cancel()).rejects.toMatchObject({ code: 'NOJWT', status: 401 })
    await expect(forged.checkout({ plan_id: 'free' })).rejects.toMatchObject({
      code: 'BDJWT',
      status: 401,
    })
  })
})

describe('billing calls with the functionsUrl option', () => {
  it('send the client’s token to that base URL', async ({ stack }) => {
    const caller = await stack.signIn()
    const tollgate = createTollgate(caller.supabase, { functionsUrl: `${stack.url}/functions/v1/` })

    // NOSUB, not NOJWT: the request carried the session's access token.
    await expect(tollgate.cancel()).rejects.toMatchObject({ code: 'NOSUB', status: 404 })
    expect(await tollgate.checkout({ plan_id: 'free' })).toEqual({ subscription: null })
  })

  it('answer INTRN without a status when nothing listens there', async ({ stack }) => {
    const { supabase } = await stack.signIn()
    const tollgate = createTollgate(supabase, { functionsUrl: 'http://127.0.0.1:9/functions/v1' })

    const error = await failureOf(tollgate.cancel())

    expect(error).toMatchObject({ code: 'INTRN', status: undefined })
  })
})
