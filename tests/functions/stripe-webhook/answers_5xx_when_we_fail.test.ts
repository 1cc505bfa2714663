import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStripeWebhookApp } from '../../../functions/stripe-webhook/app.ts'
import { createDb } from '../../../packages/db/src/client.ts'
import { createUser } from '../../helpers/db.ts'
import { makeStripeEvent, signedDelivery, stripeId } from '../../helpers/stripe/events.ts'
import {
  checkoutSessionFixture,
  newWorld,
  subscriptionFixture,
} from '../../helpers/stripe/fixtures.ts'
import {
  answer,
  customerOf,
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

describe('stripe-webhook answers 5xx when the failure is ours, so Stripe retries', () => {
  it('Stripe fails to return the checkout subscription: 502 (PROVR), failure in the ledger, the retry applies it', async () => {
    const world = await userWithSubscriptionAtStripe(h)
    const event = makeStripeEvent('checkout.session.completed', checkoutSessionFixture(world))
    const delivery = await signedDelivery(event, WEBHOOK_SECRET)
    h.fake.fail('GET', `/v1/subscriptions/${world.subscriptionId}`, { status: 500 }, 3)

    const failed = await answer(await h.post(delivery))
    expect(failed).toMatchObject({
      status: 502,
      body: { code: 'PROVR', details: { provider: 'stripe', status: 500 } },
    })
    expect(await ledgerOf(h.sql, [event.id])).toEqual([
      expect.objectContaining({
        processed: false,
        error: expect.stringMatching(/^PROVR: /),
        attempts: 1,
      }),
    ])
    expect(await subscriptionsOf(h.sql, world.userId)).toEqual([])
    expect(await customerOf(h.sql, world.userId)).toBeNull()

    expect(await answer(await h.post(delivery))).toEqual({ status: 200, body: { received: true } })
    expect(await ledgerOf(h.sql, [event.id])).toEqual([
      expect.objectContaining({ processed: true, outcome: 'applied', error: null, attempts: 2 }),
    ])
    expect((await subscriptionsOf(h.sql, world.userId)).map((s) => s.status)).toEqual(['active'])
  })

  it('a Stripe customer already linked to another user (CUSTM): 500, recorded, nothing applied', async () => {
    const owner = newWorld((await createUser(h.sql)).id)
    await h.deliver(makeStripeEvent('customer.subscription.created', subscriptionFixture(owner)))
    expect(await customerOf(h.sql, owner.userId)).toBe(owner.customerId)

    const other = { ...newWorld((await createUser(h.sql)).id), customerId: owner.customerId }
    const event = makeStripeEvent('customer.subscription.created', subscriptionFixture(other))
    const response = await answer(await h.deliver(event))
    expect(response).toMatchObject({
      status: 500,
      body: { code: 'INTRN', details: { code: 'CUSTM' } },
    })
    expect(await ledgerOf(h.sql, [event.id])).toEqual([
      expect.objectContaining({ processed: false, error: expect.stringMatching(/^CUSTM: /) }),
    ])
    expect(await subscriptionsOf(h.sql, other.userId)).toEqual([])
  })

  it('the database is unreachable: 500 (INTRN) without leaking connection details', async () => {
    const down = createDb('postgres://postgres@127.0.0.1:1/postgres', { max: 1 })
    const app = createStripeWebhookApp({ db: () => down })
    const event = makeStripeEvent(
      'customer.subscription.created',
      subscriptionFixture(newWorld(stripeId('u'))),
    )
    const delivery = await signedDelivery(event, WEBHOOK_SECRET)
    try {
      const response = await app.request(
        '/stripe-webhook',
        { method: 'POST', headers: delivery.headers, body: delivery.body },
        h.env,
      )
      expect(await answer(response)).toEqual({
        status: 500,
        body: { code: 'INTRN', message: 'Internal error', details: null, hint: null },
      })
    } finally {
      await down.end()
    }
  })
})
