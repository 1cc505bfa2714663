import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CheckoutResult } from '../../packages/client/src/index.ts'
import { createFakeStripe, type FakeStripe } from '../helpers/fake-stripe.ts'
import { type ClientStack, failureOf, startClientStack } from './support.ts'

const ORIGIN = 'https://app.example.test'

// The local stack's functions with Stripe configured, at the fake Stripe API.
let stripe: FakeStripe
let stack: ClientStack
beforeAll(async () => {
  // Ten minutes ago by the fake's clock: what the app applies later is newer than its events.
  stripe = await createFakeStripe({ now: () => Math.floor(Date.now() / 1000) - 600 })
  stack = await startClientStack({
    STRIPE_SECRET_KEY: 'sk_test_tollgate_client',
    STRIPE_API_BASE: stripe.url,
    TOLLGATE_REDIRECT_ORIGINS: ORIGIN,
  })
})
afterAll(async () => {
  await stack?.close()
  await stripe?.close()
})

const sessionOf = (checkout: CheckoutResult): string => {
  if (!('session_id' in checkout))
    throw new Error(`not a Stripe checkout: ${JSON.stringify(checkout)}`)
  return checkout.session_id
}

describe('a Stripe subscription through the client', () => {
  it('checks out, verifies the payment, changes plan, cancels, resumes and opens the portal', async () => {
    const { tollgate } = await stack.signIn()

    const checkout = await tollgate.checkout({
      plan_id: 'pro',
      success_url: `${ORIGIN}/thanks`,
      cancel_url: `${ORIGIN}/pricing`,
    })
    expect(checkout).toEqual({
      provider: 'stripe',
      session_id: expect.stringMatching(/^cs_/),
      url: expect.stringMatching(/^https:\/\//),
    })
    const sessionId = sessionOf(checkout)
    stripe.completeCheckout(sessionId)

    const verified = await tollgate.verifyPayment({ provider: 'stripe', session_id: sessionId })
    expect(verified).toEqual({
      subscription: expect.objectContaining({
        plan_id: 'pro',
        status: 'active',
        provider: 'stripe',
      }),
    })
    expect(await tollgate.mySubscription()).toEqual(verified.subscription)
    expect((await tollgate.myUsage()).find((u) => u.metric === 'projects')).toMatchObject({
      quota: 100,
    })

    const changed = await tollgate.changePlan('enterprise')
    expect(changed.subscription).toMatchObject({
      id: verified.subscription?.id,
      plan_id: 'enterprise',
    })
    expect((await tollgate.myUsage()).find((u) => u.metric === 'projects')).toMatchObject({
      quota: -1,
      remaining: null,
    })

    expect((await tollgate.cancel()).subscription).toMatchObject({ cancel_at_period_end: true })
    expect(await tollgate.mySubscription()).toMatchObject({ cancel_at_period_end: true })
    expect((await tollgate.resume()).subscription).toMatchObject({ cancel_at_period_end: false })

    const portal = await tollgate.portal(`${ORIGIN}/account`)
    expect(portal).toEqual({ url: expect.stringMatching(/^https:\/\//) })
    expect([...stripe.state.portalSessions.values()]).toContainEqual(
      expect.objectContaining({ url: portal.url, return_url: `${ORIGIN}/account` }),
    )
    expect(stack.strays).toEqual([])
  })

  it('answers SAMEP (409) for the plan already held and BADRQ (400) for a foreign redirect', async () => {
    const { tollgate } = await stack.signIn()
    const sessionId = sessionOf(await tollgate.checkout({ plan_id: 'pro' }))
    stripe.completeCheckout(sessionId)
    await tollgate.verifyPayment({ provider: 'stripe', session_id: sessionId })

    expect(await failureOf(tollgate.changePlan('pro'))).toMatchObject({
      code: 'SAMEP',
      status: 409,
    })
    expect(await failureOf(tollgate.portal('https://evil.example/phish'))).toMatchObject({
      code: 'BADRQ',
      status: 400,
    })
  })
})
