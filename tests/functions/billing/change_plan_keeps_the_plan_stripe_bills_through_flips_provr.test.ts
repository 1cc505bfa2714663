import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  billingHarness,
  pastClock,
  subscribeWithStripe,
  subscriptionsOf,
  type BillingHarness,
  type Caller,
} from '../../helpers/billing.ts'

let h: BillingHarness
beforeAll(async () => {
  // Stripe's clock ten minutes behind ours: its events are older than anything stamped now().
  h = await billingHarness({ stripe: pastClock })
})
afterAll(() => h.close())

const PLAN_OF_PRICE: Record<string, string> = {
  price_pro_monthly: 'pro',
  price_enterprise_monthly: 'enterprise',
}

/** The plan of the price Stripe bills for the subscription now. */
const billedPlan = (subscriptionId: string): string | undefined =>
  PLAN_OF_PRICE[h.stripe.state.subscriptions.get(subscriptionId)?.items.data[0].price.id]

const grantedPlan = async (caller: Caller): Promise<string | undefined> =>
  (await subscriptionsOf(h.sql, caller.id)).find((s) => s.status === 'active')?.plan_id

describe('POST /billing/change-plan, again and again within Stripe\'s 24 h of idempotency', () => {
  it('pro -> enterprise -> pro -> enterprise: each change reaches Stripe and Tollgate grants what Stripe bills (REVIEW H-1)', async () => {
    const caller = await h.signIn()
    const { subscriptionId } = await subscribeWithStripe(h, caller, 'verify', 'pro')
    for (const plan of ['enterprise', 'pro', 'enterprise']) {
      const from = h.stripe.state.requests.length
      const answer = await h.post('change-plan', caller, { plan_id: plan })
      expect(answer).toMatchObject({ status: 200, body: { subscription: { plan_id: plan } } })
      const updates = h.stripe.state.requests.slice(from).filter((r) => r.method === 'POST')
      expect(updates.map((u) => u.replayed)).toEqual([false])
      expect(billedPlan(subscriptionId)).toBe(plan)
      expect(await grantedPlan(caller)).toBe(plan)
    }
    // Stripe's events for the three changes, delivered after: Tollgate still grants the billed plan.
    const answers = await h.deliverStripe(
      h.stripe.events.filter((e) => e.type === 'customer.subscription.updated'),
    )
    expect(answers.every((a) => a.status === 200)).toBe(true)
    expect(await grantedPlan(caller)).toBe(billedPlan(subscriptionId))
  })

  it('answers 502 PROVR and applies nothing when Stripe answers with another price than asked', async () => {
    const caller = await h.signIn()
    const { subscriptionId } = await subscribeWithStripe(h, caller, 'verify', 'pro')
    const before = await subscriptionsOf(h.sql, caller.id)
    // Stripe leaves the update pending (payment_behavior pending_if_incomplete): still on pro.
    h.stripe.rewriteNext('POST', `/v1/subscriptions/${subscriptionId}`, (body) => ({
      ...body,
      items: {
        ...body.items,
        data: body.items.data.map((item: { price: unknown }) => ({
          ...item,
          price: { ...(item.price as object), id: 'price_pro_monthly' },
        })),
      },
    }))
    expect(await h.post('change-plan', caller, { plan_id: 'enterprise' })).toMatchObject({
      status: 502,
      body: { code: 'PROVR' },
    })
    expect(await subscriptionsOf(h.sql, caller.id)).toEqual(before)
  })

  it('a change applied at once leaves the events Stripe sends after it applicable (no now() watermark)', async () => {
    const caller = await h.signIn()
    const { subscriptionId } = await subscribeWithStripe(h, caller, 'verify', 'pro')
    const events = h.stripe.events.length
    expect((await h.post('change-plan', caller, { plan_id: 'enterprise' })).status).toBe(200)
    // Stripe moves it back a second later (e.g. from its dashboard): that event must apply.
    const [changed] = h.stripe.events.slice(events)
    const now = h.stripe.state.subscriptions.get(subscriptionId)
    const back = h.stripe.makeEvent(
      'customer.subscription.updated',
      {
        ...now,
        items: {
          ...now?.items,
          data: now?.items.data.map((i: { price: object }) => ({
            ...i,
            price: { ...i.price, id: 'price_pro_monthly' },
          })),
        },
      },
      { created: Number(changed?.created) + 1 },
    )
    const [answer] = await h.deliverStripe([back])
    expect(answer?.status).toBe(200)
    expect(await grantedPlan(caller)).toBe('pro')
  })
})
