import type Stripe from 'stripe'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStripeClient, idempotencyKey } from '../../../packages/providers/stripe/src/client.ts'
import { createUser } from '../../helpers/db.ts'
import type { StripeJson } from '../../helpers/stripe/events.ts'
import {
  answer,
  customerOf,
  invoicesOf,
  subscriptionsOf,
  type WebhookHarness,
  webhookHarness,
} from '../../helpers/stripe/webhook.ts'

let h: WebhookHarness
let stripe: Stripe
beforeAll(async () => {
  h = await webhookHarness()
  stripe = createStripeClient(h.env)
})
afterAll(() => h.close())

/** Delivers what the fake Stripe emitted since `from`, in order; returns the new position. */
const deliverEmitted = async (from: number): Promise<number> => {
  const events: StripeJson[] = h.fake.events.slice(from)
  for (const event of events) {
    expect(await answer(await h.deliver(event)), event.type).toEqual({
      status: 200,
      body: { received: true },
    })
  }
  return from + events.length
}

describe('the events Stripe sends for a checkout made through its API', () => {
  it('subscribe, fail a renewal, cancel: Tollgate follows each step', async () => {
    const user = await createUser(h.sql)
    const start = h.fake.events.length
    const session = await stripe.checkout.sessions.create(
      {
        mode: 'subscription',
        line_items: [{ price: 'price_pro_monthly', quantity: 1 }],
        client_reference_id: user.id,
        customer_email: user.email,
        metadata: { user_id: user.id },
        subscription_data: { metadata: { user_id: user.id } },
        success_url: 'https://app.example.test/ok',
      },
      { idempotencyKey: idempotencyKey('checkout', user.id) },
    )
    const { subscription, invoice } = h.fake.completeCheckout(session.id)
    let at = await deliverEmitted(start)
    const item = subscription.items.data[0]
    const [row] = await subscriptionsOf(h.sql, user.id)
    expect(row).toEqual({
      id: expect.any(String),
      plan_id: 'pro',
      status: 'active',
      provider: 'stripe',
      current_period_start: item.current_period_start,
      current_period_end: item.current_period_end,
      billing_cycle_anchor: subscription.billing_cycle_anchor,
      cancel_at_period_end: false,
      canceled_at: null,
      ended_at: null,
      trial_end: null,
    })
    expect(await customerOf(h.sql, user.id)).toBe(subscription.customer)
    expect(await invoicesOf(h.sql, user.id)).toEqual([
      expect.objectContaining({
        subscription_id: row?.id,
        status: 'paid',
        amount_paid: '2900',
        number: invoice.number,
        period_start: item.current_period_start,
        period_end: item.current_period_end,
      }),
    ])

    const renewal = h.fake.renewSubscription(subscription.id, { paid: false })
    at = await deliverEmitted(at)
    expect(await subscriptionsOf(h.sql, user.id)).toEqual([
      expect.objectContaining({
        status: 'past_due',
        current_period_start: renewal.subscription.items.data[0].current_period_start,
        current_period_end: renewal.subscription.items.data[0].current_period_end,
      }),
    ])
    expect((await invoicesOf(h.sql, user.id)).map((i) => [i.number, i.status])).toEqual([
      [invoice.number, 'paid'],
      [renewal.invoice.number, 'open'],
    ])

    await stripe.subscriptions.cancel(subscription.id)
    await deliverEmitted(at)
    expect((await subscriptionsOf(h.sql, user.id)).map((s) => s.status)).toEqual(['canceled'])
  })
})
