import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  billingHarness,
  customerOf,
  footprintOf,
  ORIGIN,
  type BillingHarness,
} from '../../helpers/billing.ts'

let h: BillingHarness
beforeAll(async () => {
  h = await billingHarness()
})
afterAll(() => h.close())

describe('POST /billing/checkout with Stripe', () => {
  it('creates a subscription-mode session for the plan price, linked to the user', async () => {
    const caller = await h.signIn()
    const from = h.stripe.state.requests.length

    const answer = await h.post('checkout', caller, {
      plan_id: 'pro',
      success_url: `${ORIGIN}/billing/done?session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${ORIGIN}/billing`,
    })

    expect(answer).toEqual({
      status: 200,
      body: {
        provider: 'stripe',
        session_id: expect.stringMatching(/^cs_test_/),
        url: expect.stringMatching(/^https:\/\/checkout\.stripe\.com\//),
      },
    })
    const sessionId: string = answer.body.session_id
    const session = h.stripe.state.checkoutSessions.get(sessionId)
    const customerId = await customerOf(h.sql, caller.id)
    expect(customerId).toMatch(/^cus_/)
    expect(h.stripe.state.customers.get(customerId ?? '')).toMatchObject({
      email: caller.email,
      metadata: { user_id: caller.id },
    })
    const checkoutId = session?.metadata.tollgate_checkout_id
    expect(checkoutId).toMatch(/^[0-9a-f-]{36}$/)
    expect(session).toMatchObject({
      mode: 'subscription',
      customer: customerId,
      client_reference_id: caller.id,
      metadata: { user_id: caller.id, plan_id: 'pro', tollgate_checkout_id: checkoutId },
      success_url: `${ORIGIN}/billing/done?session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${ORIGIN}/billing`,
      url: answer.body.url,
    })
    expect(h.stripe.state.checkouts.get(sessionId)).toEqual({
      lineItems: [{ price: 'price_pro_monthly', quantity: 1 }],
      subscriptionData: { metadata: { user_id: caller.id, plan_id: 'pro' } },
      discounts: [],
    })
    // Each POST carries the key made from what it is about, so a retry is applied once.
    const posts = h.stripe.state.requests.slice(from).filter((r) => r.method === 'POST')
    expect(posts.map((r) => [r.path, r.idempotencyKey])).toEqual([
      ['/v1/customers', `tollgate:customer:${caller.id}`],
      ['/v1/checkout/sessions', `tollgate:checkout:${checkoutId}`],
    ])
    const footprint = await footprintOf(h.sql, caller.id)
    expect(footprint.refs).toEqual([
      { provider: 'stripe', object_type: 'checkout_session', provider_id: sessionId },
    ])
    expect(footprint.subscriptions).toEqual([])
  })

  it('sends the user back to the first allowed origin when no URLs are given', async () => {
    const caller = await h.signIn()
    const answer = await h.post('checkout', caller, { plan_id: 'enterprise' })
    expect(answer.status).toBe(200)
    expect(h.stripe.state.checkoutSessions.get(answer.body.session_id)).toMatchObject({
      success_url: `${ORIGIN}/?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${ORIGIN}/?checkout=cancel`,
    })
    expect(h.stripe.state.checkouts.get(answer.body.session_id)?.lineItems).toEqual([
      { price: 'price_enterprise_monthly', quantity: 1 },
    ])
  })

  it('creates the Stripe customer once and reuses it for a later checkout of another plan', async () => {
    const caller = await h.signIn()
    const from = h.stripe.state.requests.length

    const first = await h.post('checkout', caller, { plan_id: 'pro' })
    // The first checkout is abandoned; the user comes back for another plan.
    const second = await h.post('checkout', caller, { plan_id: 'enterprise' })

    expect([first.status, second.status]).toEqual([200, 200])
    expect(second.body.session_id).not.toBe(first.body.session_id)
    const customerId = await customerOf(h.sql, caller.id)
    const requests = h.stripe.state.requests.slice(from)
    expect(requests.filter((r) => r.method === 'POST' && r.path === '/v1/customers')).toHaveLength(
      1,
    )
    const sessions = [first, second].map((a) =>
      h.stripe.state.checkoutSessions.get(a.body.session_id),
    )
    expect(sessions.map((s) => [s?.customer, s?.metadata.plan_id])).toEqual([
      [customerId, 'pro'],
      [customerId, 'enterprise'],
    ])
    expect(new Set(sessions.map((s) => s?.metadata.tollgate_checkout_id)).size).toBe(2)
  })
})
