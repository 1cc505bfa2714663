import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeRazorpay, type FakeRazorpay } from '../../../../tests/helpers/fake-razorpay.ts'
import { fixtureJson } from '../fixtures/load.ts'
import { createRazorpayOrder, CreateRazorpayOrderInput, RazorpayOrder } from './orders.ts'
import { verifyPaymentSignature, verifyWebhookSignature } from './signature.ts'
import { parseRazorpayWebhook } from './webhook.ts'

let fake: FakeRazorpay
beforeAll(async () => {
  fake = await startFakeRazorpay()
})
afterAll(async () => {
  await fake.close()
})

const documentedRequest = fixtureJson<{
  amount: number
  currency: string
  receipt: string
  notes: Record<string, string>
}>('api/order.create.request.json')
const documentedResponse = fixtureJson<Record<string, unknown>>('api/order.create.response.json')

const input = {
  amount: 2900,
  currency: 'usd',
  receipt: 'tg_3f2a9c1e-7d4b-4e0a-9b1c-2d3e4f5a6b7c',
  notes: { user_id: '5b3c1f0e-1a2b-4c3d-8e9f-0a1b2c3d4e5f', plan_id: 'pro' },
}

const basicAuth = () => `Basic ${Buffer.from(`${fake.keyId}:${fake.keySecret}`).toString('base64')}`

const codeOf = async (promise: Promise<unknown>) => {
  try {
    await promise
  } catch (error) {
    return error as { code: string; status: number; details: unknown; message: string }
  }
  throw new Error('expected a failure')
}

describe('the documented Orders API payloads', () => {
  it('parses the documented response as an order', () => {
    expect(RazorpayOrder.parse(documentedResponse)).toEqual({ ...documentedResponse })
  })

  it('sends the documented request body unchanged', () => {
    expect(CreateRazorpayOrderInput.parse(documentedRequest)).toEqual(documentedRequest)
  })
})

describe('createRazorpayOrder against the fake API', () => {
  it('POSTs /v1/orders with basic auth and JSON, currency upper-case, and returns the order', async () => {
    const before = fake.requests.length
    const order = await createRazorpayOrder(fake.env, input)

    expect(order).toMatchObject({
      entity: 'order',
      amount: 2900,
      amount_paid: 0,
      amount_due: 2900,
      currency: 'USD',
      receipt: input.receipt,
      status: 'created',
      attempts: 0,
      notes: input.notes,
    })
    expect(order.id).toMatch(/^order_[A-Za-z0-9]{14}$/)
    expect(Object.keys(order).sort()).toEqual(Object.keys(documentedResponse).sort())
    expect(fake.requests.slice(before)).toEqual([
      {
        method: 'POST',
        path: '/v1/orders',
        headers: expect.objectContaining({
          authorization: basicAuth(),
          'content-type': 'application/json',
        }),
        body: { ...input, currency: 'USD' },
        status: 200,
      },
    ])
  })

  it('works in-process through options.fetch, and with a trailing slash on the base', async () => {
    const order = await createRazorpayOrder(
      { ...fake.env, RAZORPAY_API_BASE: `${fake.url}/` },
      { ...input, amount: 100, notes: {} },
      { fetch: fake.fetch },
    )
    expect(order).toMatchObject({ amount: 100, currency: 'USD', notes: {} })
    expect(fake.orders.get(order.id)).toMatchObject({ amount: 100 })
  })

  it.each(['RAZORPAY_KEY_ID', 'RAZORPAY_KEY_SECRET'] as const)(
    'refuses without %s (NOCFG 503) before calling Razorpay',
    async (name) => {
      const before = fake.requests.length
      const error = await codeOf(createRazorpayOrder({ ...fake.env, [name]: undefined }, input))
      expect(error).toMatchObject({ code: 'NOCFG', status: 503, details: { missing: name } })
      expect(error.message).toContain(name)
      const empty = await codeOf(createRazorpayOrder({ ...fake.env, [name]: '' }, input))
      expect(empty).toMatchObject({ code: 'NOCFG', details: { missing: name } })
      expect(fake.requests.length).toBe(before)
    },
  )

  it('turns a refused key into PROVR 502 without the secret in the error', async () => {
    const wrong = 'not-the-secret-0123456789'
    const error = await codeOf(
      createRazorpayOrder({ ...fake.env, RAZORPAY_KEY_SECRET: wrong }, input),
    )
    expect(error).toMatchObject({
      code: 'PROVR',
      status: 502,
      details: { provider: 'razorpay', status: 401, code: 'BAD_REQUEST_ERROR' },
    })
    expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain(wrong)
    expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain(
      fake.keySecret,
    )
  })

  it('turns a Razorpay 5xx into PROVR 502', async () => {
    fake.failNext(503)
    const error = await codeOf(createRazorpayOrder(fake.env, input))
    expect(error).toMatchObject({ code: 'PROVR', status: 502, details: { status: 503 } })
  })

  it('turns an unreachable API into PROVR 502', async () => {
    const closed = await startFakeRazorpay()
    await closed.close()
    const error = await codeOf(
      createRazorpayOrder({ ...fake.env, RAZORPAY_API_BASE: closed.url }, input),
    )
    expect(error).toMatchObject({ code: 'PROVR', status: 502, details: { status: null } })
  })

  it('turns an answer that is not an order into PROVR 502', async () => {
    for (const body of ['{"id": "order_1"}', '<html>gateway</html>']) {
      const error = await codeOf(
        createRazorpayOrder(fake.env, input, {
          fetch: async () => new Response(body, { status: 200 }),
        }),
      )
      expect(error).toMatchObject({ code: 'PROVR', status: 502, details: { status: 200 } })
    }
  })

  it.each([
    ['an amount under 100', { amount: 99 }],
    ['a fractional amount', { amount: 2900.5 }],
    ['a currency that is not a code', { currency: 'dollars' }],
    ['a receipt over 40 characters', { receipt: 'r'.repeat(41) }],
    [
      '16 notes',
      { notes: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, 'v'])) },
    ],
  ])('refuses %s (BADRQ) without calling Razorpay', async (_name, change) => {
    const before = fake.requests.length
    const error = await codeOf(createRazorpayOrder(fake.env, { ...input, ...change }))
    expect(error).toMatchObject({ code: 'BADRQ', status: 400 })
    expect(fake.requests.length).toBe(before)
  })
})

describe('the fake refuses what Razorpay refuses', () => {
  it('answers 400 BAD_REQUEST_ERROR for a lower-case currency and an amount under 100', async () => {
    const post = (body: unknown) =>
      fetch(`${fake.url}/v1/orders`, {
        method: 'POST',
        headers: {
          authorization: basicAuth(),
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      })
    const lower = await post({ amount: 2900, currency: 'usd' })
    expect(lower.status).toBe(400)
    expect(await lower.json()).toMatchObject({
      error: { code: 'BAD_REQUEST_ERROR', field: 'currency' },
    })
    const small = await post({ amount: 99, currency: 'INR' })
    expect(small.status).toBe(400)
    expect(await small.json()).toMatchObject({ error: { field: 'amount' } })
  })
})

describe('what the fake signs (node:crypto) verifies with the WebCrypto code', () => {
  it('pays an order: Checkout ids and a payment signature over order_id|payment_id', async () => {
    const order = await createRazorpayOrder(fake.env, input)
    const paid = fake.pay(order.id)
    expect(paid.razorpay_order_id).toBe(order.id)
    expect(paid.razorpay_payment_id).toMatch(/^pay_[A-Za-z0-9]{14}$/)
    expect(
      await verifyPaymentSignature({
        orderId: paid.razorpay_order_id,
        paymentId: paid.razorpay_payment_id,
        signature: paid.razorpay_signature,
        keySecret: fake.keySecret,
      }),
    ).toBe(true)
    expect(fake.orders.get(order.id)).toMatchObject({
      status: 'paid',
      amount_paid: 2900,
      amount_due: 0,
    })
  })

  it.each(['payment.captured', 'order.paid', 'payment.failed'] as const)(
    'builds a signed %s delivery that parses',
    async (type) => {
      const order = await createRazorpayOrder(fake.env, input)
      const { razorpay_payment_id: paymentId } = fake.pay(order.id)
      const hook = fake.webhook(type, { orderId: order.id })
      expect(hook.headers).toEqual({
        'content-type': 'application/json',
        'x-razorpay-signature': hook.signature,
        'x-razorpay-event-id': hook.eventId,
      })
      expect(
        await verifyWebhookSignature({
          body: hook.body,
          signature: hook.signature,
          secret: fake.webhookSecret,
        }),
      ).toBe(true)
      const parsed = parseRazorpayWebhook(hook.body)
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.problem))
      expect(parsed.value.event.event).toBe(type)
      expect(parsed.value.event.payload.payment?.entity).toMatchObject({
        id: paymentId,
        order_id: order.id,
        amount: 2900,
        currency: 'USD',
        status: type === 'payment.failed' ? 'failed' : 'captured',
      })
      if (type === 'order.paid') {
        expect(parsed.value.event.payload.order?.entity).toMatchObject({
          id: order.id,
          amount_paid: 2900,
          status: 'paid',
          notes: input.notes,
        })
      }
    },
  )
})
