import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUser } from '../../helpers/db.ts'
import { makeStripeEvent, readStripeFixture, type StripeJson } from '../../helpers/stripe/events.ts'
import {
  invoiceFixture,
  newWorld,
  nowSeconds,
  subscriptionFixture,
} from '../../helpers/stripe/fixtures.ts'
import {
  answer,
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

const acknowledged = async (event: StripeJson) => {
  expect(await answer(await h.deliver(event))).toEqual({ status: 200, body: { received: true } })
}

describe('verified events Tollgate does not apply', () => {
  it.each([
    ['payment_intent.succeeded', 'payment_intent.json'],
    ['customer.created', 'customer.json'],
    ['invoice_payment.paid', 'invoice_payment.json'],
    ['price.created', 'price.json'],
  ])('%s: 200, recorded as ignored', async (type, file) => {
    const event = makeStripeEvent(type, readStripeFixture(file))
    await acknowledged(event)
    expect(await ledgerOf(h.sql, [event.id])).toEqual([
      {
        event_id: event.id,
        type,
        api_version: '2026-10-28.endive',
        outcome: 'ignored',
        error: null,
        attempts: 1,
        processed: true,
      },
    ])
  })

  it('a subscription to a price no plan has: 200, recorded as unlinked, nothing applied', async () => {
    const world = newWorld((await createUser(h.sql)).id)
    const event = makeStripeEvent(
      'customer.subscription.created',
      subscriptionFixture(world, { price: 'price_not_sold_by_tollgate' }),
    )
    await acknowledged(event)
    expect(await subscriptionsOf(h.sql, world.userId)).toEqual([])
    expect(await ledgerOf(h.sql, [event.id])).toEqual([
      expect.objectContaining({
        outcome: 'unlinked',
        error: 'no plan has Stripe price price_not_sold_by_tollgate',
        processed: true,
      }),
    ])
  })

  it('a subscription of nobody Tollgate knows: 200, recorded as unlinked', async () => {
    const stranger = newWorld(randomUUID())
    const event = makeStripeEvent('customer.subscription.created', subscriptionFixture(stranger))
    await acknowledged(event)
    expect(await subscriptionsOf(h.sql, stranger.userId)).toEqual([])
    expect(await ledgerOf(h.sql, [event.id])).toEqual([
      expect.objectContaining({
        outcome: 'unlinked',
        error: `no Tollgate user for subscription ${stranger.subscriptionId}`,
      }),
    ])
  })

  it('an invoice of nobody Tollgate knows: 200, recorded as unlinked', async () => {
    const stranger = newWorld(randomUUID())
    const invoice = invoiceFixture(stranger)
    const event = makeStripeEvent('invoice.paid', invoice)
    await acknowledged(event)
    expect(await invoicesOf(h.sql, stranger.userId)).toEqual([])
    expect(await ledgerOf(h.sql, [event.id])).toEqual([
      expect.objectContaining({
        outcome: 'unlinked',
        error: `no Tollgate user for invoice ${invoice.id}`,
      }),
    ])
  })

  it('invoice.upcoming (an invoice that does not exist yet, without id): 200, recorded as ignored', async () => {
    const world = newWorld((await createUser(h.sql)).id)
    const upcoming = invoiceFixture(world, {
      status: 'draft',
      created: nowSeconds() + 3 * 24 * 3600,
    })
    delete upcoming.id
    const event = makeStripeEvent('invoice.upcoming', upcoming)
    await acknowledged(event)
    expect(await invoicesOf(h.sql, world.userId)).toEqual([])
    expect(await ledgerOf(h.sql, [event.id])).toEqual([
      expect.objectContaining({ outcome: 'ignored', processed: true }),
    ])
  })
})
