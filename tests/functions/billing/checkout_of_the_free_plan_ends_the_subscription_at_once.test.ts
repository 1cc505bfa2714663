import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  auditOf,
  billingHarness,
  consume,
  footprintOf,
  paidRazorpayCheckout,
  pastClock,
  subscribeWithStripe,
  subscriptionsOf,
  usageOf,
  type BillingHarness,
  type UsageRow,
} from '../../helpers/billing.ts'

let h: BillingHarness
beforeAll(async () => {
  // Checkouts happened ten minutes ago: what the app applies now is newer than their events.
  h = await billingHarness({ stripe: pastClock })
})
afterAll(() => h.close())

// Free's quotas, by metric, with the given api_calls row.
const freeUsage = (apiCalls: UsageRow): UsageRow[] => [
  apiCalls,
  { metric: 'api_keys', used: '0', quota: '2', remaining: '2' },
  { metric: 'projects', used: '0', quota: '3', remaining: '3' },
  { metric: 'requests', used: '0', quota: '100', remaining: '100' },
  { metric: 'storage_gb', used: '0', quota: '1', remaining: '1' },
]

describe('POST /billing/checkout of the free plan', () => {
  it('cancels the Stripe subscription at Stripe and locally; the user is back on free quotas', async () => {
    const caller = await h.signIn()
    const { subscriptionId } = await subscribeWithStripe(h, caller, 'webhooks', 'pro')
    await consume(h.sql, caller, 'api_calls', 2000)
    const [before] = await subscriptionsOf(h.sql, caller.id)
    const from = h.stripe.state.requests.length

    const answer = await h.post('checkout', caller, { plan_id: 'free' })

    expect(answer).toEqual({
      status: 200,
      body: {
        subscription: expect.objectContaining({
          id: before?.id,
          plan_id: 'pro',
          status: 'canceled',
          provider: 'stripe',
        }),
      },
    })
    const atStripe = h.stripe.state.subscriptions.get(subscriptionId)
    expect(atStripe).toMatchObject({ status: 'canceled' })
    expect(
      h.stripe.state.requests.slice(from).map((r) => [r.method, r.path, r.idempotencyKey]),
    ).toEqual([
      [
        'DELETE',
        `/v1/subscriptions/${subscriptionId}`,
        `tollgate:switch-to-free:${subscriptionId}`,
      ],
    ])
    expect(await subscriptionsOf(h.sql, caller.id)).toEqual([
      {
        ...before,
        status: 'canceled',
        canceled_at: atStripe?.canceled_at,
        ended_at: atStripe?.ended_at,
      },
    ])
    // Downgrade: free's quota, the 2,000 calls already counted stay counted.
    expect(await usageOf(h.sql, caller)).toEqual(
      freeUsage({ metric: 'api_calls', used: '2000', quota: '1000', remaining: '0' }),
    )
    expect((await auditOf(h.sql, caller.id)).at(-1)).toEqual({
      action: 'update',
      old_values: { plan_id: 'pro', status: 'active' },
      new_values: { plan_id: 'pro', status: 'canceled' },
      reason: 'stripe:switch-to-free',
    })
  })

  it('ends a Razorpay subscription locally, without Stripe', async () => {
    const caller = await h.signIn()
    const paid = await paidRazorpayCheckout(h, caller, 'pro')
    expect((await h.post('verify-payment', caller, { provider: 'razorpay', ...paid })).status).toBe(
      200,
    )
    const from = h.stripe.state.requests.length

    const answer = await h.post('checkout', caller, { plan_id: 'free' })

    expect(answer).toEqual({
      status: 200,
      body: {
        subscription: expect.objectContaining({
          plan_id: 'pro',
          status: 'canceled',
          provider: 'razorpay',
          ended_at: expect.any(String),
        }),
      },
    })
    expect(h.stripe.state.requests.length).toBe(from)
    expect((await footprintOf(h.sql, caller.id)).subscriptions).toEqual([
      expect.objectContaining({ plan_id: 'pro', status: 'canceled' }),
    ])
    expect(await usageOf(h.sql, caller)).toEqual(
      freeUsage({ metric: 'api_calls', used: '0', quota: '1000', remaining: '1000' }),
    )
  })

  it('answers {subscription: null} for a user already on free, without Stripe even configured', async () => {
    const caller = await h.signIn()
    const from = h.stripe.state.requests.length

    const answer = await h.post(
      'checkout',
      caller,
      { plan_id: 'free' },
      { env: { STRIPE_SECRET_KEY: undefined } },
    )

    expect(answer).toEqual({ status: 200, body: { subscription: null } })
    expect(h.stripe.state.requests.length).toBe(from)
    expect(await footprintOf(h.sql, caller.id)).toEqual({
      subscriptions: [],
      invoices: [],
      customers: [],
      refs: [],
      redemptions: [],
    })
  })
})
