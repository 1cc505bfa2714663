import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  idempotencyKey,
  stripeClientFor,
} from '../../../packages/providers/stripe/src/index.ts'
import {
  billingHarness,
  ORIGIN,
  subscriptionsOf,
  type BillingHarness,
  type Caller,
  unixNow,
} from '../../helpers/billing.ts'

// The fake's clock, moved by the tests: the two subscriptions are created a minute apart.
let clock = unixNow() - 3600
let h: BillingHarness
beforeAll(async () => {
  h = await billingHarness({ stripe: { now: () => clock } })
})
afterAll(() => h.close())

const actionsOf = (userId: string) =>
  h.sql<{ provider_object_id: string; state: string; attempts: number }[]>`
    select provider_object_id, state, attempts from tollgate_private.provider_actions
    where user_id = ${userId} order by created_at`

/**
 * Two checkouts of one user both paid (the race a new checkout's expiry cannot close: a second
 * tab's checkout made at the same moment, so neither saw the other): the first session is made
 * at Stripe as the billing function makes it, the second through the app.
 */
const twoPaidCheckouts = async (caller: Caller) => {
  const stripe = stripeClientFor(h.env)
  const customer = await stripe.customers.create(
    { email: caller.email, metadata: { user_id: caller.id } },
    { idempotencyKey: idempotencyKey('customer', caller.id) },
  )
  const first = await stripe.checkout.sessions.create({
    mode: 'subscription',
    customer: customer.id,
    client_reference_id: caller.id,
    line_items: [{ price: 'price_pro_monthly', quantity: 1 }],
    subscription_data: { metadata: { user_id: caller.id, plan_id: 'pro' } },
    metadata: { user_id: caller.id, plan_id: 'pro' },
    success_url: `${ORIGIN}/ok`,
    cancel_url: `${ORIGIN}/cancel`,
  })
  const second = await h.post('checkout', caller, { plan_id: 'enterprise' })
  expect(second.status).toBe(200)
  const from = h.stripe.events.length
  const pro = h.stripe.completeCheckout(first.id)
  clock += 60
  const enterprise = h.stripe.completeCheckout(String(second.body.session_id))
  clock += 60
  return {
    pro: String(pro.subscription.id),
    enterprise: String(enterprise.subscription.id),
    events: h.stripe.events.slice(from),
  }
}

const cancelCalls = (subscriptionId: string) =>
  h.stripe.requestsTo('DELETE', `/v1/subscriptions/${subscriptionId}`)

// Review M-2: both paid; the older one was canceled only in Tollgate while Stripe billed both.
describe('stripe-webhook when a user’s second subscription goes live', () => {
  it('cancels the older one at Stripe, prorated, once, and Tollgate keeps the newer', async () => {
    const caller = await h.signIn()
    const paid = await twoPaidCheckouts(caller)

    const answers = await h.deliverStripe(paid.events)
    expect(answers.every((a) => a.status === 200)).toBe(true)
    // What Stripe emitted after canceling (customer.subscription.deleted) is delivered too.
    const after = h.stripe.events.slice(h.stripe.events.indexOf(paid.events.at(-1) ?? {}) + 1)
    expect((await h.deliverStripe(after)).every((a) => a.status === 200)).toBe(true)

    expect(h.stripe.state.subscriptions.get(paid.pro)).toMatchObject({ status: 'canceled' })
    expect(h.stripe.state.subscriptions.get(paid.enterprise)).toMatchObject({ status: 'active' })
    expect(cancelCalls(paid.pro)).toEqual([
      expect.objectContaining({
        status: 200,
        params: expect.objectContaining({ prorate: 'true' }),
        idempotencyKey: expect.stringMatching(/^tollgate:provider-action:/),
      }),
    ])
    expect(cancelCalls(paid.enterprise)).toEqual([])
    expect((await subscriptionsOf(h.sql, caller.id)).map((s) => [s.plan_id, s.status])).toEqual([
      ['pro', 'canceled'],
      ['enterprise', 'active'],
    ])
    expect(await actionsOf(caller.id)).toEqual([
      { provider_object_id: paid.pro, state: 'done', attempts: 0 },
    ])

    // Every event delivered again, in any order: nothing flips, nothing is called again.
    await h.deliverStripe([...h.stripe.events].reverse())
    expect((await subscriptionsOf(h.sql, caller.id)).map((s) => [s.plan_id, s.status])).toEqual([
      ['pro', 'canceled'],
      ['enterprise', 'active'],
    ])
    expect(cancelCalls(paid.pro)).toHaveLength(1)
  })

  it('retries a cancellation Stripe failed with a later call', async () => {
    const caller = await h.signIn()
    const paid = await twoPaidCheckouts(caller)
    // More failures than the SDK retries by itself.
    h.stripe.fail('DELETE', `/v1/subscriptions/${paid.pro}`, { status: 500 }, 3)

    await h.deliverStripe(paid.events)
    expect(h.stripe.state.subscriptions.get(paid.pro)).toMatchObject({ status: 'active' })
    expect(await actionsOf(caller.id)).toEqual([
      { provider_object_id: paid.pro, state: 'pending', attempts: 1 },
    ])

    // Its back-off is over; the next Stripe event delivered runs it.
    await h.sql`
      update tollgate_private.provider_actions set next_attempt_at = now()
      where provider_object_id = ${paid.pro}`
    const renewal = h.stripe.renewSubscription(paid.enterprise)
    expect(renewal.subscription.status).toBe('active')
    await h.deliverStripe(h.stripe.events.slice(-1))

    expect(h.stripe.state.subscriptions.get(paid.pro)).toMatchObject({ status: 'canceled' })
    expect(await actionsOf(caller.id)).toEqual([
      { provider_object_id: paid.pro, state: 'done', attempts: 1 },
    ])
  })
})
