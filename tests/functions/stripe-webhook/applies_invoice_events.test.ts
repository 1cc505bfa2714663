import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUser } from '../../helpers/db.ts'
import { makeStripeEvent, stripeId, type StripeJson } from '../../helpers/stripe/events.ts'
import {
  invoiceFixture,
  type InvoiceOptions,
  MONTH,
  newWorld,
  nowSeconds,
  type StripeWorld,
  subscriptionFixture,
} from '../../helpers/stripe/fixtures.ts'
import {
  answer,
  type InvoiceRow,
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

// The first period started a month and an hour ago; the renewal (T1) an hour ago.
const T0 = nowSeconds() - MONTH - 3600
const T1 = T0 + MONTH
const T2 = T1 + MONTH

const deliver = async (type: string, object: StripeJson, created: number): Promise<StripeJson> => {
  const event = makeStripeEvent(type, object, { created })
  expect(await answer(await h.deliver(event))).toEqual({ status: 200, body: { received: true } })
  return event
}

/** A user whose subscription (created at T0) Tollgate already knows; returns its row id. */
const subscribed = async (): Promise<{ world: StripeWorld; subscriptionId: string }> => {
  const world = newWorld((await createUser(h.sql)).id)
  await deliver(
    'customer.subscription.created',
    subscriptionFixture(world, { periodStart: T0 }),
    T0,
  )
  const [row] = await subscriptionsOf(h.sql, world.userId)
  if (!row) throw new Error('subscription not recorded')
  return { world, subscriptionId: row.id }
}

const invoice = (world: StripeWorld, options: InvoiceOptions) => invoiceFixture(world, options)

const row = (
  invoiceObject: StripeJson,
  subscriptionId: string | null,
  overrides: Partial<InvoiceRow>,
): InvoiceRow => ({
  subscription_id: subscriptionId,
  provider: 'stripe',
  number: invoiceObject.number,
  status: invoiceObject.status,
  currency: 'usd',
  amount_due: '2900',
  amount_paid: '0',
  period_start: invoiceObject.lines.data[0].period.start,
  period_end: invoiceObject.lines.data[0].period.end,
  hosted_invoice_url: invoiceObject.hosted_invoice_url,
  invoice_pdf: invoiceObject.invoice_pdf,
  paid_at: null,
  ...overrides,
})

describe('invoice.* events', () => {
  it('invoice.paid: records the paid invoice linked to its subscription, period from its line', async () => {
    const { world, subscriptionId } = await subscribed()
    const paid = invoice(world, { status: 'paid', periodStart: T0, created: T0 })
    const event = await deliver('invoice.paid', paid, T0 + 1)
    expect(await invoicesOf(h.sql, world.userId)).toEqual([
      row(paid, subscriptionId, { amount_paid: '2900', paid_at: T0, period_end: T1 }),
    ])
    expect(await ledgerOf(h.sql, [event.id])).toEqual([
      expect.objectContaining({ outcome: 'applied', processed: true }),
    ])
  })

  it('invoice.payment_failed and the update to past_due: open invoice, subscription past_due for the new period', async () => {
    const { world, subscriptionId } = await subscribed()
    const renewal = invoice(world, {
      status: 'open',
      billingReason: 'subscription_cycle',
      periodStart: T1,
      created: T1,
      nextPaymentAttempt: T1 + 3 * 24 * 3600,
    })
    await deliver('invoice.payment_failed', renewal, T1 + 1)
    await deliver(
      'customer.subscription.updated',
      subscriptionFixture(world, {
        status: 'past_due',
        created: T0,
        periodStart: T1,
        periodEnd: T2,
      }),
      T1 + 2,
    )
    expect(await invoicesOf(h.sql, world.userId)).toEqual([row(renewal, subscriptionId, {})])
    expect(await subscriptionsOf(h.sql, world.userId)).toEqual([
      expect.objectContaining({
        id: subscriptionId,
        status: 'past_due',
        current_period_start: T1,
        current_period_end: T2,
      }),
    ])
  })

  it('invoice.payment_action_required: records the open invoice awaiting the customer', async () => {
    const { world, subscriptionId } = await subscribed()
    const open = invoice(world, { status: 'open', periodStart: T1, created: T1 })
    await deliver('invoice.payment_action_required', open, T1 + 1)
    expect(await invoicesOf(h.sql, world.userId)).toEqual([row(open, subscriptionId, {})])
  })

  it('invoice.finalized then invoice.voided: the same invoice goes from open to void', async () => {
    const { world, subscriptionId } = await subscribed()
    const id = stripeId('in')
    const open = invoice(world, { id, status: 'open', periodStart: T1, created: T1 })
    await deliver('invoice.finalized', open, T1 + 1)
    expect((await invoicesOf(h.sql, world.userId)).map((i) => i.status)).toEqual(['open'])
    const voided = invoice(world, { id, status: 'void', periodStart: T1, created: T1 })
    await deliver('invoice.voided', voided, T1 + 2)
    expect(await invoicesOf(h.sql, world.userId)).toEqual([row(voided, subscriptionId, {})])
  })

  it('invoice.marked_uncollectible: records the uncollectible invoice', async () => {
    const { world, subscriptionId } = await subscribed()
    const id = stripeId('in')
    await deliver(
      'invoice.finalized',
      invoice(world, { id, status: 'open', periodStart: T1, created: T1 }),
      T1 + 1,
    )
    const lost = invoice(world, { id, status: 'uncollectible', periodStart: T1, created: T1 })
    await deliver('invoice.marked_uncollectible', lost, T1 + 2)
    expect(await invoicesOf(h.sql, world.userId)).toEqual([row(lost, subscriptionId, {})])
  })

  it('links an invoice that arrived before its subscription once the subscription arrives', async () => {
    const world = newWorld((await createUser(h.sql)).id)
    const paid = invoice(world, { status: 'paid', periodStart: T0, created: T0 })
    await deliver('invoice.paid', paid, T0 + 1)
    expect((await invoicesOf(h.sql, world.userId)).map((i) => i.subscription_id)).toEqual([null])
    await deliver(
      'customer.subscription.created',
      subscriptionFixture(world, { periodStart: T0 }),
      T0,
    )
    const [subscription] = await subscriptionsOf(h.sql, world.userId)
    expect(await invoicesOf(h.sql, world.userId)).toEqual([
      row(paid, subscription?.id ?? 'missing', {
        amount_paid: '2900',
        paid_at: T0,
        period_end: T1,
      }),
    ])
  })

  it('keeps the newer state when an older event about the invoice arrives late (stale)', async () => {
    const { world, subscriptionId } = await subscribed()
    const id = stripeId('in')
    const paid = invoice(world, { id, status: 'paid', periodStart: T1, created: T1 })
    await deliver('invoice.paid', paid, T1 + 2)
    const late = await deliver(
      'invoice.finalized',
      invoice(world, { id, status: 'open', periodStart: T1, created: T1 }),
      T1 + 1,
    )
    expect(await invoicesOf(h.sql, world.userId)).toEqual([
      row(paid, subscriptionId, { amount_paid: '2900', paid_at: T1 }),
    ])
    expect(await ledgerOf(h.sql, [late.id])).toEqual([
      expect.objectContaining({ outcome: 'stale', processed: true }),
    ])
  })
})
