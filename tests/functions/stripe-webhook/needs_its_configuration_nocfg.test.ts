import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStripeWebhookApp } from '../../../functions/stripe-webhook/app.ts'
import { createUser } from '../../helpers/db.ts'
import { makeStripeEvent, signedDelivery } from '../../helpers/stripe/events.ts'
import {
  checkoutSessionFixture,
  newWorld,
  subscriptionFixture,
} from '../../helpers/stripe/fixtures.ts'
import {
  answer,
  ledgerOf,
  subscriptionsOf,
  WEBHOOK_SECRET,
  type WebhookHarness,
  userWithSubscriptionAtStripe,
  webhookHarness,
} from '../../helpers/stripe/webhook.ts'

let h: WebhookHarness
beforeAll(async () => {
  h = await webhookHarness()
})
afterAll(() => h.close())

const subscriptionEvent = async () => {
  const world = newWorld((await createUser(h.sql)).id)
  return {
    world,
    event: makeStripeEvent('customer.subscription.created', subscriptionFixture(world)),
  }
}

describe('stripe-webhook without its settings (NOCFG)', () => {
  it('answers 503 (NOCFG) without STRIPE_WEBHOOK_SECRET and records nothing', async () => {
    const { world, event } = await subscriptionEvent()
    const delivery = await signedDelivery(event, WEBHOOK_SECRET)
    const response = await answer(await h.post(delivery, { STRIPE_WEBHOOK_SECRET: '' }))
    expect(response).toEqual({
      status: 503,
      body: {
        code: 'NOCFG',
        message: 'This service is not configured',
        details: { missing: 'STRIPE_WEBHOOK_SECRET' },
        hint: null,
      },
    })
    expect(await ledgerOf(h.sql, [event.id])).toEqual([])
    expect(await subscriptionsOf(h.sql, world.userId)).toEqual([])
  })

  it('answers 503 (NOCFG) without DATABASE_URL or SUPABASE_DB_URL', async () => {
    const { event } = await subscriptionEvent()
    const app = createStripeWebhookApp()
    const delivery = await signedDelivery(event, WEBHOOK_SECRET)
    const response = await app.request(
      '/stripe-webhook',
      { method: 'POST', headers: delivery.headers, body: delivery.body },
      { ...h.env, DATABASE_URL: '', SUPABASE_DB_URL: '' },
    )
    expect(await answer(response)).toMatchObject({
      status: 503,
      body: { code: 'NOCFG', details: { missing: 'DATABASE_URL' } },
    })
  })

  it('answers 503 (NOCFG) when a checkout needs Stripe and STRIPE_SECRET_KEY is missing; the retry applies it', async () => {
    const world = await userWithSubscriptionAtStripe(h)
    const event = makeStripeEvent('checkout.session.completed', checkoutSessionFixture(world))
    const delivery = await signedDelivery(event, WEBHOOK_SECRET)
    const failed = await answer(await h.post(delivery, { STRIPE_SECRET_KEY: '' }))
    expect(failed).toMatchObject({
      status: 503,
      body: { code: 'NOCFG', details: { missing: 'STRIPE_SECRET_KEY' } },
    })
    expect(await ledgerOf(h.sql, [event.id])).toEqual([
      expect.objectContaining({
        processed: false,
        outcome: null,
        error: expect.stringMatching(/^NOCFG: /),
      }),
    ])
    expect(await subscriptionsOf(h.sql, world.userId)).toEqual([])

    expect(await answer(await h.post(delivery))).toEqual({ status: 200, body: { received: true } })
    expect(await ledgerOf(h.sql, [event.id])).toEqual([
      expect.objectContaining({ processed: true, outcome: 'applied', error: null, attempts: 2 }),
    ])
    expect((await subscriptionsOf(h.sql, world.userId)).map((s) => s.status)).toEqual(['active'])
  })
})
