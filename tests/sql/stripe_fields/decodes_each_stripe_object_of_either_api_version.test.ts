import { randomUUID } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { ownerSql } from '../../helpers/db.ts'
import { readStripeFixture, type StripeJson } from '../../helpers/stripe/events.ts'

const sql = ownerSql()
afterAll(() => sql.end())

type Decoder = 'stripe_subscription_fields' | 'stripe_invoice_fields' | 'stripe_checkout_fields'

/** The decoder's record as JSON, its times as Unix seconds. */
const decode = async (decoder: Decoder, object: StripeJson): Promise<Record<string, unknown>> => {
  const [row] = await sql<{ fields: Record<string, unknown> }[]>`
    select to_jsonb(f) as fields
    from tollgate_private.${sql(decoder)}(${JSON.stringify(object)}::text::jsonb) f`
  if (!row) throw new Error('no row')
  return Object.fromEntries(
    Object.entries(row.fields).map(([key, value]) => [
      key,
      typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value) ? Date.parse(value) / 1000 : value,
    ]),
  )
}

/** The object of a recorded event (API 2020-03-02). */
const recorded = (name: string): StripeJson =>
  readStripeFixture(`recorded-api-2020-03-02/${name}.json`).data.object

describe('stripe_subscription_fields decodes a subscription of either API version', () => {
  it('basil and later (official fixture): the period from the first item, an end before the start dropped', async () => {
    expect(await decode('stripe_subscription_fields', readStripeFixture('subscription.json'))).toEqual({
      id: 'sub_1Pgc6rB7WZ01zgkWNy0Cn5nw',
      customer: 'cus_QXg1o8vcGmoR32',
      status: 'active',
      price: 'price_1PgafmB7WZ01zgkW6dKueIc5',
      metadata_user: null,
      current_period_start: 1896570518,
      // The fixture's item ends (976287773) before it starts: no end rather than a negative period.
      current_period_end: null,
      cancel_at: 1234567890,
      cancel_at_period_end: true,
      canceled_at: 1234567890,
      ended_at: 1234567890,
      trial_end: 1234567890,
      billing_cycle_anchor: 1234567890,
      created: 1234567890,
    })
  })

  it('basil and later (derived canceled snapshot): item period, ended times', async () => {
    expect(
      await decode('stripe_subscription_fields', readStripeFixture('derived/subscription.canceled.json')),
    ).toMatchObject({
      status: 'canceled',
      current_period_start: 1721954054,
      current_period_end: 1724632454,
      cancel_at: null,
      cancel_at_period_end: false,
      canceled_at: 1724632454,
      ended_at: 1724632454,
      trial_end: null,
    })
  })

  it('before basil (recorded 2020-03-02 events): the period from the subscription itself', async () => {
    expect(await decode('stripe_subscription_fields', recorded('customer.subscription.created'))).toEqual({
      id: 'sub_JdIzvfy6o5GZRd',
      customer: 'cus_IhGfebO16cMIGN',
      status: 'active',
      price: 'price_1IDQm5JDPojXS6LNM31hxKzp',
      // Its metadata has other keys but no user_id.
      metadata_user: null,
      current_period_start: 1623148918,
      current_period_end: 1625740918,
      cancel_at: null,
      cancel_at_period_end: false,
      canceled_at: null,
      ended_at: null,
      trial_end: null,
      billing_cycle_anchor: 1623148918,
      created: 1623148918,
    })
    expect(await decode('stripe_subscription_fields', recorded('customer.subscription.deleted'))).toMatchObject({
      status: 'canceled',
      current_period_start: 1623148918,
      current_period_end: 1625740918,
      canceled_at: 1623149102,
      ended_at: 1623149102,
    })
  })

  it('prefers the item period over a leftover top-level one, reads expanded ids and a cancel_at inside the period', async () => {
    const subscription = readStripeFixture('derived/subscription.canceled.json')
    const userId = randomUUID()
    subscription.current_period_start = 1000
    subscription.current_period_end = 2000
    subscription.customer = { id: 'cus_expanded', object: 'customer' }
    subscription.metadata = { user_id: userId }
    subscription.cancel_at = 1724632454
    expect(await decode('stripe_subscription_fields', subscription)).toMatchObject({
      customer: 'cus_expanded',
      metadata_user: userId,
      current_period_start: 1721954054,
      current_period_end: 1724632454,
      cancel_at_period_end: true,
    })
  })

  it('reads a metadata.user_id in capitals as the uuid it is', async () => {
    const userId = randomUUID()
    expect(
      await decode('stripe_subscription_fields', { id: 'sub_x', metadata: { user_id: userId.toUpperCase() } }),
    ).toMatchObject({ metadata_user: userId })
  })

  it('answers null for a metadata.user_id that is not a uuid and for missing fields', async () => {
    expect(
      await decode('stripe_subscription_fields', { id: 'sub_x', metadata: { user_id: 'not-a-uuid' } }),
    ).toMatchObject({
      id: 'sub_x',
      metadata_user: null,
      status: null,
      price: null,
      current_period_start: null,
      current_period_end: null,
      cancel_at_period_end: false,
    })
  })
})

describe('stripe_invoice_fields decodes an invoice of either API version', () => {
  it('basil and later: the subscription under parent, the service period from the first line', async () => {
    expect(
      await decode('stripe_invoice_fields', readStripeFixture('derived/invoice.paid.subscription_create.json')),
    ).toEqual({
      id: 'in_1Pgc6tB7WZ01zgkWu9fdqL6I',
      customer: 'cus_QXg1o8vcGmoR32',
      subscription: 'sub_1Pgc6rB7WZ01zgkWNy0Cn5nw',
      metadata_user: null,
      status: 'paid',
      number: '7FE1103-0001',
      currency: 'usd',
      amount_due: 2000,
      amount_paid: 2000,
      // Not the invoice's own period_start/period_end (1721954054 both): when items were added.
      period_start: 1721954054,
      period_end: 1724632454,
      hosted_invoice_url: null,
      invoice_pdf: null,
      paid_at: 1721954054,
      created: 1721954054,
    })
  })

  it('before basil (recorded 2020-03-02 invoice.paid): the subscription at the top level', async () => {
    const invoice = recorded('invoice.paid')
    expect(await decode('stripe_invoice_fields', invoice)).toEqual({
      id: 'in_1KJqKBJDPojXS6LNJbvLUgEy',
      customer: 'cus_JsuO3bmrj0QlAw',
      subscription: 'sub_JsuPyCPhXWfZar',
      metadata_user: null,
      status: 'paid',
      number: '60229DE7-0007',
      currency: 'usd',
      amount_due: 0,
      amount_paid: 0,
      period_start: 1642645280,
      period_end: 1645323680,
      hosted_invoice_url: invoice.hosted_invoice_url,
      invoice_pdf: invoice.invoice_pdf,
      paid_at: 1642649110,
      created: 1642645471,
    })
  })

  it('reads the subscription metadata.user_id in either place, lower-cases currency, never a negative amount', async () => {
    const userId = randomUUID()
    const basil = readStripeFixture('derived/invoice.paid.subscription_create.json')
    basil.parent.subscription_details.metadata = { user_id: userId }
    basil.currency = 'USD'
    basil.amount_due = -5
    expect(await decode('stripe_invoice_fields', basil)).toMatchObject({
      metadata_user: userId,
      currency: 'usd',
      amount_due: 0,
    })
    const legacy = recorded('invoice.paid')
    legacy.subscription_details = { metadata: { user_id: userId } }
    delete legacy.lines.data
    expect(await decode('stripe_invoice_fields', legacy)).toMatchObject({
      metadata_user: userId,
      // Without lines, the invoice's own period.
      period_start: 1639966880,
      period_end: 1642645280,
    })
  })
})

describe('stripe_checkout_fields decodes a Checkout Session', () => {
  it('a completed subscription checkout (derived fixture)', async () => {
    expect(
      await decode(
        'stripe_checkout_fields',
        readStripeFixture('derived/checkout.session.completed.subscription.json'),
      ),
    ).toEqual({
      id: 'cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY',
      mode: 'subscription',
      status: 'complete',
      payment_status: 'paid',
      customer: 'cus_QXg1o8vcGmoR32',
      subscription: 'sub_1Pgc6rB7WZ01zgkWNy0Cn5nw',
      client_reference_user: null,
      metadata_user: null,
      checkout_id: null,
    })
  })

  it('an open payment-mode session (official fixture) and the buyer Tollgate names', async () => {
    expect(await decode('stripe_checkout_fields', readStripeFixture('checkout.session.json'))).toMatchObject({
      mode: 'payment',
      status: 'open',
      payment_status: 'unpaid',
      customer: null,
      subscription: null,
    })
    const session = readStripeFixture('derived/checkout.session.completed.subscription.json')
    const [buyer, other] = [randomUUID(), randomUUID()]
    session.client_reference_id = buyer
    session.metadata = { user_id: other, tollgate_checkout_id: 'chk_1' }
    session.subscription = { id: 'sub_expanded', object: 'subscription' }
    expect(await decode('stripe_checkout_fields', session)).toMatchObject({
      client_reference_user: buyer,
      metadata_user: other,
      checkout_id: 'chk_1',
      subscription: 'sub_expanded',
    })
    session.client_reference_id = 'someone'
    expect(await decode('stripe_checkout_fields', session)).toMatchObject({ client_reference_user: null })
  })
})
