import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  billingHarness,
  pastClock,
  subscribeWithStripe,
  subscriptionsOf,
  type BillingHarness,
} from '../../helpers/billing.ts'

let h: BillingHarness
beforeAll(async () => {
  h = await billingHarness({ stripe: pastClock })
})
afterAll(() => h.close())

describe('stripe-webhook with two events about one subscription in the same second (REVIEW S-4)', () => {
  it('re-fetches the subscription on the tie and applies what Stripe says now, whatever the event ids', async () => {
    const caller = await h.signIn()
    const { subscriptionId } = await subscribeWithStripe(h, caller, 'webhooks', 'pro')
    const live = h.stripe.state.subscriptions.get(subscriptionId)
    const second = Number(h.stripe.events.at(-1)?.created) + 5
    const withStatus = (status: string) => ({ ...live, status })
    // past_due then active (paid on retry) in one second; the later one got the lower id.
    const failed = h.stripe.makeEvent('customer.subscription.updated', withStatus('past_due'), {
      id: 'evt_tie_z_failed',
      created: second,
    })
    const paid = h.stripe.makeEvent('customer.subscription.updated', withStatus('active'), {
      id: 'evt_tie_a_paid',
      created: second,
    })
    const fetches = h.stripe.requestsTo('GET', `/v1/subscriptions/${subscriptionId}`).length

    const answers = await h.deliverStripe([failed, paid])

    expect(answers.map((a) => a.status)).toEqual([200, 200])
    // Stripe's object (active) settled the second, not the ids' order.
    expect(h.stripe.requestsTo('GET', `/v1/subscriptions/${subscriptionId}`).length).toBe(
      fetches + 1,
    )
    expect((await subscriptionsOf(h.sql, caller.id)).map((s) => s.status)).toEqual(['active'])
    const [ledger] = await h.sql`select outcome, processed_at is not null as processed
      from tollgate_private.webhook_events where provider = 'stripe' and event_id = 'evt_tie_a_paid'`
    expect(ledger).toEqual({ outcome: 'applied', processed: true })
  })
})
