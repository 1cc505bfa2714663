import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUser } from '../../helpers/db.ts'
import { makeStripeEvent, stripeId, type StripeJson } from '../../helpers/stripe/events.ts'
import {
  checkoutSessionFixture,
  invoiceFixture,
  MONTH,
  newWorld,
  nowSeconds,
  type StripeWorld,
  subscriptionFixture,
} from '../../helpers/stripe/fixtures.ts'
import {
  auditOf,
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

const T = nowSeconds() - 7200

/**
 * The events of one subscription's life, as Stripe creates them: subscription created, first
 * invoice paid, checkout completed, cancellation requested, subscription deleted. The fake Stripe
 * answers with the subscription as it is at the end (deliveries come after the fact).
 */
const lifeOf = (world: StripeWorld): StripeJson[] => {
  const invoiceId = stripeId('in')
  const life = { periodStart: T, created: T, latestInvoice: invoiceId }
  const cancelling = { ...life, cancelAtPeriodEnd: true, canceledAt: T + 100 }
  const ended = { ...cancelling, status: 'canceled', endedAt: T + 200 }
  h.fake.state.subscriptions.set(world.subscriptionId, subscriptionFixture(world, ended))
  return [
    makeStripeEvent('customer.subscription.created', subscriptionFixture(world, life), {
      created: T,
    }),
    makeStripeEvent('invoice.paid', invoiceFixture(world, { id: invoiceId, periodStart: T }), {
      created: T + 1,
    }),
    makeStripeEvent(
      'checkout.session.completed',
      checkoutSessionFixture(world, { invoice: invoiceId }),
      {
        created: T + 2,
      },
    ),
    makeStripeEvent('customer.subscription.updated', subscriptionFixture(world, cancelling), {
      created: T + 100,
      previousAttributes: { cancel_at_period_end: false, cancel_at: null, canceled_at: null },
    }),
    makeStripeEvent('customer.subscription.deleted', subscriptionFixture(world, ended), {
      created: T + 200,
    }),
  ]
}

// mulberry32: a small seeded generator, so a failing order can be replayed.
const generator = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const shuffled = <T>(items: T[], seed: number): T[] => {
  const random = generator(seed)
  const copy = [...items]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[copy[i], copy[j]] = [copy[j] as T, copy[i] as T]
  }
  return copy
}

/** Delivers the events in this order, each answered 200. */
const deliverAll = async (events: StripeJson[]) => {
  for (const event of events) {
    const response = await h.deliver(event)
    expect(response.status, `${event.type} ${event.id}`).toBe(200)
  }
}

/** The user's Tollgate state with the test's own ids replaced, so runs can be compared. */
const stateOf = async (world: StripeWorld) => {
  const [subscriptions, invoices, customer] = await Promise.all([
    subscriptionsOf(h.sql, world.userId),
    invoicesOf(h.sql, world.userId),
    customerOf(h.sql, world.userId),
  ])
  const ids = new Map(subscriptions.map((s, i) => [s.id, `subscription#${i}`]))
  return {
    subscriptions: subscriptions.map((s) => ({ ...s, id: ids.get(s.id) })),
    invoices: invoices.map((i) => ({
      ...i,
      subscription_id: i.subscription_id === null ? null : ids.get(i.subscription_id),
      number: i.number === null ? null : 'number',
      hosted_invoice_url: i.hosted_invoice_url === null ? null : 'url',
      invoice_pdf: i.invoice_pdf === null ? null : 'pdf',
    })),
    customer: customer === world.customerId ? 'the checkout customer' : customer,
  }
}

const runIn = async (order: (events: StripeJson[]) => StripeJson[]) => {
  const world = newWorld((await createUser(h.sql)).id)
  const events = lifeOf(world)
  await deliverAll(order(events))
  return { world, events, state: await stateOf(world) }
}

describe('every event delivered three times, in shuffled orders', () => {
  let reference: Awaited<ReturnType<typeof stateOf>>

  beforeAll(async () => {
    const inOrder = await runIn((events) => events)
    reference = inOrder.state
  })

  it('in order, once each: the subscription ends canceled, with its paid invoice', async () => {
    expect(reference).toEqual({
      subscriptions: [
        {
          id: 'subscription#0',
          plan_id: 'pro',
          status: 'canceled',
          provider: 'stripe',
          current_period_start: T,
          current_period_end: T + MONTH,
          billing_cycle_anchor: T,
          cancel_at_period_end: true,
          canceled_at: T + 100,
          ended_at: T + 200,
          trial_end: null,
        },
      ],
      invoices: [
        {
          subscription_id: 'subscription#0',
          provider: 'stripe',
          number: 'number',
          status: 'paid',
          currency: 'usd',
          amount_due: '2900',
          amount_paid: '2900',
          period_start: T,
          period_end: T + MONTH,
          hosted_invoice_url: 'url',
          invoice_pdf: 'pdf',
          paid_at: T,
        },
      ],
      customer: 'the checkout customer',
    })
  })

  it.each([1, 2, 3, 4, 5, 6])(
    'seed %i: the same end state, each event recorded and applied once',
    async (seed) => {
      const { world, events, state } = await runIn((list) =>
        shuffled([...list, ...list, ...list], seed)
      )
      expect(state).toEqual(reference)

      const ledger = await ledgerOf(h.sql, events.map((e) => e.id))
      expect(ledger.map((row) => [row.type, row.attempts, row.processed, row.error])).toEqual(
        events.map((e) => [e.type, 3, true, null]),
      )
      // Older snapshots that arrived after newer ones are recorded as stale, never applied over them;
      // the newest snapshot, the invoice and the checkout always apply.
      expect(ledger.map((row) => row.outcome)).toEqual([
        expect.stringMatching(/^(applied|stale)$/),
        'applied',
        'applied',
        expect.stringMatching(/^(applied|stale)$/),
        'applied',
      ])

      // Each audited change comes from a different event: no delivery applied twice.
      const audit = await auditOf(h.sql, world.userId)
      const reasons = audit.map((row) => row.reason)
      expect(new Set(reasons).size).toBe(reasons.length)
      expect(reasons.every((r) => events.some((e) => r === `stripe:${e.id}`))).toBe(true)
      expect(audit[0]).toMatchObject({ action: 'insert' })
      expect(audit.at(-1)).toMatchObject({ new_values: { plan_id: 'pro', status: 'canceled' } })
    },
  )
})
