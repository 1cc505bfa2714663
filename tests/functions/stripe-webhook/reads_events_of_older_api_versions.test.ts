import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUser } from '../../helpers/db.ts'
import { readStripeFixture, stripeId, type StripeJson } from '../../helpers/stripe/events.ts'
import { newWorld, PRO_PRICE, type StripeWorld } from '../../helpers/stripe/fixtures.ts'
import {
  answer,
  customerOf,
  invoicesOf,
  ledgerOf,
  subscriptionsOf,
  type WebhookHarness,
  webhookHarness,
} from '../../helpers/stripe/webhook.ts'

let h: WebhookHarness
beforeAll(async () => {
  h = await webhookHarness()
})
afterAll(() => h.close())

/**
 * A recorded API 2020-03-02 event (periods on the subscription, invoice.subscription at the top)
 * rewritten to the world's ids: new event id, the user in metadata, items priced as the pro plan.
 */
const recorded = (world: StripeWorld, file: string): StripeJson => {
  const event = readStripeFixture(`recorded-api-2020-03-02/${file}`)
  event.id = stripeId('evt')
  const object = event.data.object
  object.customer = world.customerId
  if (object.object === 'subscription') {
    object.id = world.subscriptionId
    object.metadata = { ...object.metadata, user_id: world.userId }
    for (const item of object.items.data) {
      item.subscription = world.subscriptionId
      item.price.id = PRO_PRICE
      item.plan.id = PRO_PRICE
    }
  } else {
    object.id = stripeId('in')
    object.subscription = world.subscriptionId
    for (const line of object.lines.data) {
      line.subscription = world.subscriptionId
      line.price.id = PRO_PRICE
    }
  }
  return event
}

const deliver = async (event: StripeJson) => {
  expect(event.api_version).toBe('2020-03-02')
  expect(await answer(await h.deliver(event))).toEqual({ status: 200, body: { received: true } })
}

const setup = async (): Promise<StripeWorld> => newWorld((await createUser(h.sql)).id)

// Values of the recorded subscription sub_JdIzvfy6o5GZRd.
const recordedSubscription = {
  id: expect.any(String),
  plan_id: 'pro',
  provider: 'stripe',
  current_period_start: 1623148918,
  current_period_end: 1625740918,
  billing_cycle_anchor: 1623148918,
  cancel_at_period_end: false,
  trial_end: null,
}

describe('events rendered in API version 2020-03-02', () => {
  it('customer.subscription.created: takes the period from the subscription itself', async () => {
    const world = await setup()
    const event = recorded(world, 'customer.subscription.created.json')
    await deliver(event)
    expect(await subscriptionsOf(h.sql, world.userId)).toEqual([
      { ...recordedSubscription, status: 'active', canceled_at: null, ended_at: null },
    ])
    expect(await customerOf(h.sql, world.userId)).toBe(world.customerId)
    expect(await ledgerOf(h.sql, [event.id])).toEqual([
      expect.objectContaining({ api_version: '2020-03-02', outcome: 'applied', processed: true }),
    ])
  })

  it('customer.subscription.deleted after created: ends it', async () => {
    const world = await setup()
    await deliver(recorded(world, 'customer.subscription.created.json'))
    const deleted = recorded(world, 'customer.subscription.deleted.json')
    await deliver(deleted)
    expect(await subscriptionsOf(h.sql, world.userId)).toEqual([
      {
        ...recordedSubscription,
        status: 'canceled',
        canceled_at: deleted.data.object.canceled_at,
        ended_at: deleted.data.object.ended_at,
      },
    ])
  })

  it('customer.subscription.updated: reads the period and status of the legacy shape', async () => {
    const world = await setup()
    await deliver(recorded(world, 'customer.subscription.updated.json'))
    expect(await subscriptionsOf(h.sql, world.userId)).toEqual([
      {
        ...recordedSubscription,
        status: 'active',
        current_period_start: 1618980344,
        current_period_end: 1621572344,
        billing_cycle_anchor: 1618980344,
        canceled_at: null,
        ended_at: null,
      },
    ])
  })

  it('invoice.paid and invoice.finalized: link the invoice through invoice.subscription', async () => {
    const world = await setup()
    await deliver(recorded(world, 'customer.subscription.created.json'))
    const [subscription] = await subscriptionsOf(h.sql, world.userId)
    const paid = recorded(world, 'invoice.paid.json')
    const finalized = recorded(world, 'invoice.finalized.json')
    await deliver(paid)
    await deliver(finalized)
    const paidObject = paid.data.object
    const finalizedObject = finalized.data.object
    expect(await invoicesOf(h.sql, world.userId)).toEqual([
      {
        subscription_id: subscription?.id,
        provider: 'stripe',
        number: finalizedObject.number,
        status: 'open',
        currency: 'usd',
        amount_due: '0',
        amount_paid: '0',
        period_start: finalizedObject.lines.data[0].period.start,
        period_end: finalizedObject.lines.data[0].period.end,
        hosted_invoice_url: finalizedObject.hosted_invoice_url,
        invoice_pdf: finalizedObject.invoice_pdf,
        // A zero-amount invoice is paid on finalisation: Stripe sent status open with paid_at set.
        paid_at: finalizedObject.status_transitions.paid_at,
      },
      {
        subscription_id: subscription?.id,
        provider: 'stripe',
        number: paidObject.number,
        status: 'paid',
        currency: 'usd',
        amount_due: '0',
        amount_paid: '0',
        period_start: paidObject.lines.data[0].period.start,
        period_end: paidObject.lines.data[0].period.end,
        hosted_invoice_url: paidObject.hosted_invoice_url,
        invoice_pdf: paidObject.invoice_pdf,
        paid_at: paidObject.status_transitions.paid_at,
      },
    ])
  })
})
