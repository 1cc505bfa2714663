import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  billingHarness,
  subscribeWithStripe,
  subscriptionsOf,
  type BillingHarness,
} from '../../helpers/billing.ts'

// The fake Stripe runs on the real clock: its events are created in the same second as the
// requests that cause them, as Stripe's are, and the user acts within that second.
let h: BillingHarness
beforeAll(async () => {
  h = await billingHarness()
})
afterAll(() => h.close())

describe('a change made in the same second as the checkout was applied', () => {
  it('change-plan right after verify-payment answers and stores the new plan', async () => {
    const caller = await h.signIn()
    const { subscriptionId } = await subscribeWithStripe(h, caller, 'verify', 'pro')

    const answer = await h.post('change-plan', caller, { plan_id: 'enterprise' })

    expect(h.stripe.state.subscriptions.get(subscriptionId)?.items.data[0].price.id).toBe(
      'price_enterprise_monthly',
    )
    expect(answer).toEqual({
      status: 200,
      body: { subscription: expect.objectContaining({ plan_id: 'enterprise' }) },
    })
    expect((await subscriptionsOf(h.sql, caller.id)).map((s) => s.plan_id)).toEqual(['enterprise'])
  })

  it("change-plan right after the checkout's webhooks answers and stores the new plan", async () => {
    const caller = await h.signIn()
    const { subscriptionId } = await subscribeWithStripe(h, caller, 'webhooks', 'pro')

    const answer = await h.post('change-plan', caller, { plan_id: 'enterprise' })

    expect(h.stripe.state.subscriptions.get(subscriptionId)?.items.data[0].price.id).toBe(
      'price_enterprise_monthly',
    )
    expect(answer).toEqual({
      status: 200,
      body: { subscription: expect.objectContaining({ plan_id: 'enterprise' }) },
    })
    expect((await subscriptionsOf(h.sql, caller.id)).map((s) => s.plan_id)).toEqual(['enterprise'])
  })

  it('cancel right after change-plan answers and stores cancel_at_period_end', async () => {
    const caller = await h.signIn()
    const { subscriptionId } = await subscribeWithStripe(h, caller, 'verify', 'pro')
    await h.post('change-plan', caller, { plan_id: 'enterprise' })

    const answer = await h.post('cancel', caller)

    expect(h.stripe.state.subscriptions.get(subscriptionId)?.cancel_at_period_end).toBe(true)
    expect(answer).toEqual({
      status: 200,
      body: { subscription: expect.objectContaining({ cancel_at_period_end: true }) },
    })
    expect((await subscriptionsOf(h.sql, caller.id)).map((s) => s.cancel_at_period_end)).toEqual([
      true,
    ])
  })
})
