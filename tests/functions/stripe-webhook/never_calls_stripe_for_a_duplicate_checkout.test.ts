import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeStripeEvent } from '../../helpers/stripe/events.ts'
import {
  checkoutSessionFixture,
  nowSeconds,
  type StripeWorld,
} from '../../helpers/stripe/fixtures.ts'
import {
  answer,
  auditOf,
  customerOf,
  ledgerOf,
  subscriptionsOf,
  type WebhookHarness,
  userWithSubscriptionAtStripe,
  webhookHarness,
} from '../../helpers/stripe/webhook.ts'

let h: WebhookHarness
beforeAll(async () => {
  h = await webhookHarness()
})
afterAll(() => h.close())

const T = nowSeconds() - 600

/** A user, and at the fake Stripe the active subscription their checkout created. */
const setup = (): Promise<StripeWorld> => userWithSubscriptionAtStripe(h, { periodStart: T })

const callsFor = (world: StripeWorld) =>
  h.fake.requestsTo('GET', `/v1/subscriptions/${world.subscriptionId}`)

// Everything the webhook may change for the user, and the stored event.
const stateOf = async (world: StripeWorld, eventId: string) => {
  const [stored] = await h.sql<{ payload: unknown }[]>`
    select payload from tollgate_private.webhook_events
    where provider = 'stripe' and event_id = ${eventId}`
  return {
    subscriptions: await subscriptionsOf(h.sql, world.userId),
    customer: await customerOf(h.sql, world.userId),
    audit: await auditOf(h.sql, world.userId),
    payload: stored?.payload,
  }
}

describe('a checkout.session.completed delivered again', () => {
  it('is acknowledged from the ledger without calling Stripe, and changes nothing', async () => {
    const world = await setup()
    const event = makeStripeEvent('checkout.session.completed', checkoutSessionFixture(world), {
      created: T,
    })
    expect(await answer(await h.deliver(event))).toEqual({ status: 200, body: { received: true } })
    expect(callsFor(world)).toHaveLength(1)
    const applied = await stateOf(world, event.id)
    expect(applied.subscriptions).toEqual([expect.objectContaining({ status: 'active' })])

    // Stripe would now fail the fetch: a replay must not need it.
    h.fake.fail('GET', `/v1/subscriptions/${world.subscriptionId}`, { status: 500 }, 5)
    for (const _ of [1, 2]) {
      expect(await answer(await h.deliver(event))).toEqual({
        status: 200,
        body: { received: true },
      })
    }
    expect(callsFor(world)).toHaveLength(1)
    expect(await stateOf(world, event.id)).toEqual(applied)
    expect(await ledgerOf(h.sql, [event.id])).toEqual([
      expect.objectContaining({ outcome: 'applied', attempts: 3, processed: true }),
    ])
  })
})
