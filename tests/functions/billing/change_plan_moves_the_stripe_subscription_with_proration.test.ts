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
} from '../../helpers/billing.ts'

let h: BillingHarness
beforeAll(async () => {
  // Checkouts happened ten minutes ago: what the app applies now is newer than their events.
  h = await billingHarness({ stripe: pastClock })
})
afterAll(() => h.close())

const stripePosts = (from: number) =>
  h.stripe.state.requests.slice(from).filter((r) => r.method === 'POST')

describe('POST /billing/change-plan', () => {
  it('moves the Stripe subscription to the new price with prorations; plan and quotas follow at once', async () => {
    const caller = await h.signIn()
    await consume(h.sql, caller, 'api_calls', 250)
    const { subscriptionId } = await subscribeWithStripe(h, caller, 'webhooks', 'pro')
    await consume(h.sql, caller, 'api_calls', 750)
    const [before] = await subscriptionsOf(h.sql, caller.id)
    const itemId = h.stripe.state.subscriptions.get(subscriptionId)?.items.data[0].id
    const from = h.stripe.state.requests.length
    const events = h.stripe.events.length

    const answer = await h.post('change-plan', caller, { plan_id: 'enterprise' })

    expect(answer).toEqual({
      status: 200,
      body: {
        subscription: expect.objectContaining({
          id: before?.id,
          plan_id: 'enterprise',
          status: 'active',
        }),
      },
    })
    const updates = stripePosts(from)
    expect(updates).toEqual([
      expect.objectContaining({
        path: `/v1/subscriptions/${subscriptionId}`,
        // One key per attempt: the price and the live row's updated_at (as cancel/resume).
        idempotencyKey: expect.stringMatching(
          new RegExp(`^tollgate:change-plan:${subscriptionId}:${itemId}:price_enterprise_monthly:.+`),
        ),
        params: {
          items: [{ id: itemId, price: 'price_enterprise_monthly' }],
          proration_behavior: 'create_prorations',
          metadata: { user_id: caller.id, plan_id: 'enterprise' },
        },
      }),
    ])
    const atStripe = h.stripe.state.subscriptions.get(subscriptionId)
    expect(
      atStripe?.items.data.map((i: { id: string; price: { id: string } }) => [i.id, i.price.id]),
    ).toEqual([[itemId, 'price_enterprise_monthly']])
    const after = await subscriptionsOf(h.sql, caller.id)
    expect(after).toEqual([{ ...before, plan_id: 'enterprise' }])
    // A prorated change keeps the billing period: the 750 calls stay counted; the quota is
    // enterprise's plus the 750 free calls carried into the period when pro started it.
    expect(await usageOf(h.sql, caller)).toEqual([
      { metric: 'api_calls', used: '750', quota: '1000750', remaining: '1000000' },
      { metric: 'api_keys', used: '0', quota: '-1', remaining: null },
      { metric: 'projects', used: '0', quota: '-1', remaining: null },
      { metric: 'requests', used: '0', quota: '10000', remaining: '10000' },
      { metric: 'storage_gb', used: '0', quota: '500', remaining: '500' },
    ])
    expect((await auditOf(h.sql, caller.id)).at(-1)).toEqual({
      action: 'update',
      old_values: { plan_id: 'pro', status: 'active' },
      new_values: { plan_id: 'enterprise', status: 'active' },
      reason: 'stripe:change-plan',
    })

    // Stripe's event about the change arrives later: nothing moves again.
    const audit = await auditOf(h.sql, caller.id)
    expect((await h.deliverStripe(h.stripe.events.slice(events))).map((a) => a.status)).toEqual([
      200,
    ])
    expect(await subscriptionsOf(h.sql, caller.id)).toEqual(after)
    expect(await auditOf(h.sql, caller.id)).toEqual(audit)
  })

  it('refuses the free plan (PLINA): going free is a checkout of free', async () => {
    const caller = await h.signIn()
    await subscribeWithStripe(h, caller, 'webhooks', 'pro')
    const before = await footprintOf(h.sql, caller.id)
    const from = h.stripe.state.requests.length
    expect(await h.post('change-plan', caller, { plan_id: 'free' })).toEqual({
      status: 422,
      body: expect.objectContaining({ code: 'PLINA' }),
    })
    expect(stripePosts(from)).toEqual([])
    expect(await footprintOf(h.sql, caller.id)).toEqual(before)
  })

  it('refuses the plan the user is on (SAMEP)', async () => {
    const caller = await h.signIn()
    await subscribeWithStripe(h, caller, 'webhooks', 'pro')
    const before = await footprintOf(h.sql, caller.id)
    const from = h.stripe.state.requests.length
    expect(await h.post('change-plan', caller, { plan_id: 'pro' })).toEqual({
      status: 409,
      body: expect.objectContaining({ code: 'SAMEP' }),
    })
    expect(stripePosts(from)).toEqual([])
    expect(await footprintOf(h.sql, caller.id)).toEqual(before)
  })

  it('refuses an unknown plan (NOPLN)', async () => {
    const caller = await h.signIn()
    await subscribeWithStripe(h, caller, 'webhooks', 'pro')
    const from = h.stripe.state.requests.length
    expect(await h.post('change-plan', caller, { plan_id: 'platinum' })).toEqual({
      status: 404,
      body: expect.objectContaining({ code: 'NOPLN' }),
    })
    expect(stripePosts(from)).toEqual([])
  })

  it('refuses a user without a subscription (NOSUB)', async () => {
    const caller = await h.signIn()
    const from = h.stripe.state.requests.length
    expect(await h.post('change-plan', caller, { plan_id: 'enterprise' })).toEqual({
      status: 404,
      body: expect.objectContaining({ code: 'NOSUB' }),
    })
    expect(h.stripe.state.requests.length).toBe(from)
    expect((await footprintOf(h.sql, caller.id)).subscriptions).toEqual([])
  })

  it('refuses to change a Razorpay subscription in place (NOCHG)', async () => {
    const caller = await h.signIn()
    const paid = await paidRazorpayCheckout(h, caller, 'pro')
    expect((await h.post('verify-payment', caller, { provider: 'razorpay', ...paid })).status).toBe(
      200,
    )
    const before = await footprintOf(h.sql, caller.id)
    const from = h.stripe.state.requests.length
    expect(await h.post('change-plan', caller, { plan_id: 'enterprise' })).toEqual({
      status: 409,
      body: expect.objectContaining({ code: 'NOCHG' }),
    })
    expect(h.stripe.state.requests.length).toBe(from)
    expect(await footprintOf(h.sql, caller.id)).toEqual(before)
  })
})
