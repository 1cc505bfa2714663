import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  billingHarness,
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

const PRO_USAGE = [
  { metric: 'api_calls', used: '0', quota: '101000', remaining: '101000' },
  { metric: 'api_keys', used: '0', quota: '20', remaining: '20' },
  { metric: 'projects', used: '0', quota: '100', remaining: '100' },
  { metric: 'requests', used: '0', quota: '1000', remaining: '1000' },
  { metric: 'storage_gb', used: '0', quota: '50', remaining: '50' },
]

describe('POST /billing/cancel and /billing/resume', () => {
  it('cancels a Stripe subscription at period end, then resumes it, at Stripe and locally', async () => {
    const caller = await h.signIn()
    const { subscriptionId } = await subscribeWithStripe(h, caller, 'webhooks', 'pro')
    const [before] = await subscriptionsOf(h.sql, caller.id)
    const atStripe = () => h.stripe.state.subscriptions.get(subscriptionId)
    const from = h.stripe.state.requests.length

    const canceled = await h.post('cancel', caller)

    expect(canceled).toEqual({
      status: 200,
      body: {
        subscription: expect.objectContaining({
          id: before?.id,
          status: 'active',
          cancel_at_period_end: true,
        }),
      },
    })
    expect(atStripe()).toMatchObject({ cancel_at_period_end: true, status: 'active' })
    const [cancelRow] = await subscriptionsOf(h.sql, caller.id)
    expect(cancelRow).toEqual({
      ...before,
      cancel_at_period_end: true,
      canceled_at: atStripe()?.canceled_at,
    })
    // Paid until the end of the period: still pro.
    expect(await usageOf(h.sql, caller)).toEqual(PRO_USAGE)

    const resumed = await h.post('resume', caller)

    expect(resumed).toEqual({
      status: 200,
      body: {
        subscription: expect.objectContaining({
          id: before?.id,
          status: 'active',
          cancel_at_period_end: false,
          canceled_at: null,
        }),
      },
    })
    expect(atStripe()).toMatchObject({ cancel_at_period_end: false, canceled_at: null })
    expect(await subscriptionsOf(h.sql, caller.id)).toEqual([before])
    const posts = h.stripe.state.requests.slice(from).filter((r) => r.method === 'POST')
    expect(posts.map((r) => [r.path, r.params, r.idempotencyKey?.split(':').slice(0, 3)])).toEqual([
      [
        `/v1/subscriptions/${subscriptionId}`,
        { cancel_at_period_end: 'true' },
        ['tollgate', 'cancel', subscriptionId],
      ],
      [
        `/v1/subscriptions/${subscriptionId}`,
        { cancel_at_period_end: 'false' },
        ['tollgate', 'resume', subscriptionId],
      ],
    ])
  })

  it('cancels and resumes a Razorpay subscription locally, without Stripe', async () => {
    const caller = await h.signIn()
    const paid = await paidRazorpayCheckout(h, caller, 'pro')
    expect((await h.post('verify-payment', caller, { provider: 'razorpay', ...paid })).status).toBe(
      200,
    )
    const [before] = await h.sql<{ id: string; current_period_end: Date }[]>`
      select id, current_period_end from tollgate.subscriptions where user_id = ${caller.id}`
    const from = h.stripe.state.requests.length

    const canceled = await h.post('cancel', caller)
    expect(canceled).toEqual({
      status: 200,
      body: {
        subscription: expect.objectContaining({
          id: before?.id,
          provider: 'razorpay',
          status: 'active',
          cancel_at_period_end: true,
          canceled_at: expect.any(String),
        }),
      },
    })
    expect((await footprintOf(h.sql, caller.id)).subscriptions).toEqual([
      { id: before?.id, plan_id: 'pro', status: 'active', cancel_at_period_end: true },
    ])

    const resumed = await h.post('resume', caller)
    expect(resumed).toEqual({
      status: 200,
      body: {
        subscription: expect.objectContaining({
          id: before?.id,
          cancel_at_period_end: false,
          canceled_at: null,
        }),
      },
    })
    const [after] = await h.sql<{ cancel_at_period_end: boolean; current_period_end: Date }[]>`
      select cancel_at_period_end, current_period_end from tollgate.subscriptions
      where user_id = ${caller.id}`
    expect(after).toEqual({
      cancel_at_period_end: false,
      current_period_end: before?.current_period_end,
    })
    expect(h.stripe.state.requests.length).toBe(from)
  })

  it.each(['cancel', 'resume'])(
    '%s refuses a user without a subscription (NOSUB)',
    async (route) => {
      const caller = await h.signIn()
      const from = h.stripe.state.requests.length
      expect(await h.post(route, caller)).toEqual({
        status: 404,
        body: expect.objectContaining({ code: 'NOSUB' }),
      })
      expect(h.stripe.state.requests.length).toBe(from)
      expect((await footprintOf(h.sql, caller.id)).subscriptions).toEqual([])
    },
  )
})
