import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUser } from '../../helpers/db.ts'
import {
  eventBody,
  eventId,
  makeStripeEvent,
  signedDelivery,
  type StripeJson,
} from '../../helpers/stripe/events.ts'
import {
  invoiceFixture,
  newWorld,
  type StripeWorld,
  subscriptionFixture,
} from '../../helpers/stripe/fixtures.ts'
import {
  answer,
  invoicesOf,
  ledgerOf,
  subscriptionsOf,
  WEBHOOK_SECRET,
  type WebhookHarness,
  webhookHarness,
} from '../../helpers/stripe/webhook.ts'

let h: WebhookHarness
beforeAll(async () => {
  h = await webhookHarness()
})
afterAll(() => h.close())

const setup = async (): Promise<StripeWorld> => newWorld((await createUser(h.sql)).id)

const expectNothingChanged = async (world: StripeWorld, eventIds: string[]) => {
  expect(await ledgerOf(h.sql, eventIds)).toEqual([])
  expect(await subscriptionsOf(h.sql, world.userId)).toEqual([])
  expect(await invoicesOf(h.sql, world.userId)).toEqual([])
}

type Breakage = (world: StripeWorld, id: string) => StripeJson

const subscriptionEvent = (world: StripeWorld, id: string, change: (sub: StripeJson) => void) => {
  const subscription = subscriptionFixture(world)
  change(subscription)
  return makeStripeEvent('customer.subscription.updated', subscription, { id })
}

const invoiceEvent = (world: StripeWorld, id: string, change: (invoice: StripeJson) => void) => {
  const invoice = invoiceFixture(world)
  change(invoice)
  return makeStripeEvent('invoice.paid', invoice, { id })
}

const breakages: [string, Breakage][] = [
  [
    'created as text',
    (w, id) => ({
      ...makeStripeEvent('customer.subscription.created', subscriptionFixture(w), { id }),
      created: '1700000000',
    }),
  ],
  ['no type', (w, id) => {
    const event = makeStripeEvent('customer.subscription.created', subscriptionFixture(w), { id })
    delete event.type
    return event
  }],
  [
    'data.object as a list',
    (w, id) => ({
      ...makeStripeEvent('customer.subscription.created', subscriptionFixture(w), { id }),
      data: { object: [] },
    }),
  ],
  [
    'livemode as text',
    (w, id) => ({
      ...makeStripeEvent('customer.subscription.created', subscriptionFixture(w), { id }),
      livemode: 'false',
    }),
  ],
  ['a subscription status Stripe does not have', (w, id) =>
    subscriptionEvent(w, id, (s) => {
      s.status = 'sort_of_active'
    })],
  ['a subscription id without sub_', (w, id) =>
    subscriptionEvent(w, id, (s) => {
      s.id = 'subscription-1'
    })],
  ['cancel_at_period_end as text', (w, id) =>
    subscriptionEvent(w, id, (s) => {
      s.cancel_at_period_end = 'yes'
    })],
  ['an item period as text', (w, id) =>
    subscriptionEvent(w, id, (s) => {
      s.items.data[0].current_period_end = 'next month'
    })],
  ['metadata with a number', (w, id) =>
    subscriptionEvent(w, id, (s) => {
      s.metadata = { user_id: 42 }
    })],
  ['amount_due as a decimal string', (w, id) =>
    invoiceEvent(w, id, (i) => {
      i.amount_due = '29.00'
    })],
  ['a fractional amount_paid', (w, id) =>
    invoiceEvent(w, id, (i) => {
      i.amount_paid = 2900.5
    })],
  ['a currency that is not ISO', (w, id) =>
    invoiceEvent(w, id, (i) => {
      i.currency = 'dollars'
    })],
  ['a paid_at far past year 9999', (w, id) =>
    invoiceEvent(w, id, (i) => {
      i.status_transitions.paid_at = 1e15
    })],
]

describe('stripe-webhook refuses signed bodies that are not well-formed events (BADEV)', () => {
  it('refuses a signed body that is not JSON with 400 (BADEV)', async () => {
    const world = await setup()
    const body = `{"id": "${eventId()}", "object": "event", "type": "invoice.paid", `
    const response = await answer(await h.post(await signedDelivery(body, WEBHOOK_SECRET)))
    expect(response).toMatchObject({ status: 400, body: { code: 'BADEV' } })
    await expectNothingChanged(world, [])
  })

  it('refuses an empty signed body with 400', async () => {
    const response = await answer(await h.post(await signedDelivery('', WEBHOOK_SECRET)))
    expect(response.status).toBe(400)
    expect(response.body).toHaveProperty('code', expect.stringMatching(/^(BADSG|BADEV)$/))
  })

  it.each(breakages)(
    'refuses an event with %s with 400 (BADEV) and changes nothing',
    async (_name, breakage) => {
      const world = await setup()
      const id = eventId()
      const response = await answer(
        await h.post(await signedDelivery(breakage(world, id), WEBHOOK_SECRET)),
      )
      expect(response).toMatchObject({
        status: 400,
        body: { code: 'BADEV', details: expect.any(Array) },
      })
      await expectNothingChanged(world, [id])
    },
  )

  it('refuses text Postgres cannot store (\\u0000) with 400 (BADEV), not a retry loop', async () => {
    const world = await setup()
    const event = subscriptionEvent(world, eventId(), (s) => {
      s.metadata = { user_id: world.userId, note: 'nul\u0000byte' }
    })
    const response = await answer(await h.post(await signedDelivery(event, WEBHOOK_SECRET)))
    expect(response).toMatchObject({
      status: 400,
      body: { code: 'BADEV', details: { sqlstate: '22P05' } },
    })
    await expectNothingChanged(world, [event.id])
  })
})

describe('stripe-webhook limits the body to 256 KiB (TOOBG)', () => {
  const oversized = (world: StripeWorld): StripeJson => {
    const subscription = subscriptionFixture(world)
    subscription.metadata = { user_id: world.userId, padding: 'x'.repeat(256 * 1024) }
    return makeStripeEvent('customer.subscription.created', subscription)
  }

  it('refuses a signed body over the limit with 413 (TOOBG)', async () => {
    const world = await setup()
    const event = oversized(world)
    const signed = await signedDelivery(event, WEBHOOK_SECRET)
    const response = await answer(
      await h.post({
        body: signed.body,
        headers: { ...signed.headers, 'content-length': String(Buffer.byteLength(signed.body)) },
      }),
    )
    expect(response).toMatchObject({
      status: 413,
      body: { code: 'TOOBG', details: { limit: 262144 } },
    })
    await expectNothingChanged(world, [event.id])
  })

  it('refuses an oversized body that does not declare its length with 413 (TOOBG)', async () => {
    const world = await setup()
    const event = oversized(world)
    const signed = await signedDelivery(event, WEBHOOK_SECRET)
    const bytes = new TextEncoder().encode(signed.body)
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 16 * 1024) {
          controller.enqueue(bytes.slice(at, at + 16 * 1024))
        }
        controller.close()
      },
    })
    const response = await h.app.request(
      '/stripe-webhook',
      { method: 'POST', headers: signed.headers, body: stream, duplex: 'half' } as RequestInit,
      h.env,
    )
    expect(await answer(response)).toMatchObject({ status: 413, body: { code: 'TOOBG' } })
    await expectNothingChanged(world, [event.id])
  })

  it('accepts a body just under the limit', async () => {
    const world = await setup()
    const subscription = subscriptionFixture(world)
    subscription.metadata = { user_id: world.userId }
    const event = makeStripeEvent('customer.subscription.created', subscription)
    const room = 256 * 1024 - Buffer.byteLength(eventBody(event)) - 64
    subscription.metadata.padding = 'x'.repeat(room)
    const padded = makeStripeEvent('customer.subscription.created', subscription, { id: event.id })
    expect(Buffer.byteLength(eventBody(padded))).toBeLessThanOrEqual(256 * 1024)
    expect(await answer(await h.deliver(padded))).toEqual({ status: 200, body: { received: true } })
  })
})

describe('stripe-webhook stores SQL-looking strings as data', () => {
  const injection = "x'); drop table tollgate.subscriptions; --"

  it('records an event whose ids and metadata look like SQL, unlinked, and drops nothing', async () => {
    const world = await setup()
    const subscription = subscriptionFixture(world, {
      metadata: { user_id: `' or 1=1 --`, note: `Robert'); DROP TABLE students;--` },
    })
    subscription.id = `sub_${injection}`
    subscription.customer = `cus_${injection}`
    const id = `evt_${injection}`
    const event = makeStripeEvent('customer.subscription.created', subscription, { id })
    expect(await answer(await h.deliver(event))).toEqual({ status: 200, body: { received: true } })
    const [stored] = await h.sql<{ event_id: string; outcome: string; metadata: unknown }[]>`
      select event_id, outcome, payload #> '{data,object,metadata}' as metadata
      from tollgate_private.webhook_events where provider = 'stripe' and event_id = ${id}`
    expect(stored).toEqual({
      event_id: id,
      outcome: 'unlinked',
      metadata: { user_id: `' or 1=1 --`, note: `Robert'); DROP TABLE students;--` },
    })
    const [tables] = await h.sql<{ subscriptions: string | null; invoices: string | null }[]>`
      select pg_catalog.to_regclass('tollgate.subscriptions')::text as subscriptions,
        pg_catalog.to_regclass('tollgate.invoices')::text as invoices`
    expect(tables).toEqual({
      subscriptions: 'tollgate.subscriptions',
      invoices: 'tollgate.invoices',
    })
    expect(await subscriptionsOf(h.sql, world.userId)).toEqual([])
  })

  it('applies a real user’s subscription whose metadata looks like SQL and keeps the text', async () => {
    const world = await setup()
    const event = makeStripeEvent(
      'customer.subscription.created',
      subscriptionFixture(world, { metadata: { user_id: world.userId, note: injection } }),
    )
    expect(await answer(await h.deliver(event))).toEqual({ status: 200, body: { received: true } })
    expect((await subscriptionsOf(h.sql, world.userId)).map((s) => s.status)).toEqual(['active'])
    const [stored] = await h.sql<{ note: string }[]>`
      select payload #>> '{data,object,metadata,note}' as note from tollgate_private.webhook_events
      where provider = 'stripe' and event_id = ${event.id}`
    expect(stored).toEqual({ note: injection })
  })
})
