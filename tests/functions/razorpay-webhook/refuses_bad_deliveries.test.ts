import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inject } from 'vitest'
import {
  createRazorpayWebhookApp,
  RAZORPAY_WEBHOOK_BODY_LIMIT,
} from '../../../functions/razorpay-webhook/app.ts'
import { createDb } from '../../../packages/db/src/client.ts'
import {
  razorpayId,
  signHex,
  signWebhook,
  startFakeRazorpay,
  type FakeRazorpay,
  type FakeWebhook,
} from '../../helpers/fake-razorpay.ts'
import { ownerSql } from '../../helpers/db.ts'
import {
  checkoutOrderAt,
  invoicesOf,
  ledgerOf,
  orderRefOf,
  subscriptionsOf,
  testUsers,
  type TestOrder,
} from '../../sql/apply_razorpay/support.ts'

const sql = ownerSql()
const db = createDb(inject('databaseUrl'), { applicationName: 'tollgate-razorpay-webhook-test' })
const app = createRazorpayWebhookApp({ db: () => db })
const users = testUsers(sql)
let fake: FakeRazorpay
let userId: string
let order: TestOrder
beforeAll(async () => {
  fake = await startFakeRazorpay()
  userId = (await users.create()).id
  order = await checkoutOrderAt(fake, sql, userId)
  fake.pay(order.orderId)
})
afterAll(async () => {
  await fake.close()
  await users.drop()
  await db.end()
  await sql.end()
})

type Delivery = { headers: Record<string, string>; body: RequestInit['body']; duplex?: 'half' }

const post = async (delivery: Delivery, env: Record<string, string> = {}) => {
  const response = await app.request(
    '/razorpay-webhook',
    { method: 'POST', ...delivery },
    { RAZORPAY_WEBHOOK_SECRET: fake.webhookSecret, ...env },
  )
  const text = await response.text()
  return { status: response.status, body: JSON.parse(text) as Record<string, unknown>, text }
}

const valid = (): FakeWebhook => fake.webhook('payment.captured', { orderId: order.orderId })

const without = (headers: Record<string, string>, name: string) =>
  Object.fromEntries(Object.entries(headers).filter(([key]) => key !== name))

// A refusal is a 4xx (or 503) with our error body, and leaves no trace of the event or the order.
const expectRefused = async (
  answer: Awaited<ReturnType<typeof post>>,
  status: number,
  code: string,
  eventId?: string,
) => {
  expect(answer.status).toBe(status)
  expect(Object.keys(answer.body).sort()).toEqual(['code', 'details', 'hint', 'message'])
  expect(answer.body).toMatchObject({ code, message: expect.any(String), hint: null })
  expect(answer.text).not.toMatch(/at .+\.ts:\d+|select |tollgate_private/)
  if (eventId) expect(await ledgerOf(sql, eventId)).toBeUndefined()
  expect(await subscriptionsOf(sql, userId)).toEqual([])
  expect(await invoicesOf(sql, userId)).toEqual([])
  expect(await orderRefOf(sql, order.orderId)).toMatchObject({ local_id: null })
}

describe('POST /razorpay-webhook refuses deliveries it cannot trust', () => {
  it('refuses a missing X-Razorpay-Signature (BADSG 400)', async () => {
    const hook = valid()
    const answer = await post({
      headers: without(hook.headers, 'x-razorpay-signature'),
      body: hook.body,
    })
    await expectRefused(answer, 400, 'BADSG', hook.eventId)
  })

  it.each([
    ['forged', 'f'.repeat(64)],
    ['not hex', 'sdfafds'],
    ['upper-cased and truncated', 'AB'.repeat(31)],
  ])('refuses a %s signature (BADSG 400)', async (_name, signature) => {
    const hook = valid()
    const answer = await post({
      headers: { ...hook.headers, 'x-razorpay-signature': signature },
      body: hook.body,
    })
    await expectRefused(answer, 400, 'BADSG', hook.eventId)
  })

  it('refuses a body changed after signing (BADSG 400)', async () => {
    const hook = valid()
    const answer = await post({
      headers: hook.headers,
      body: hook.body.replace('"amount":2900', '"amount":290'),
    })
    await expectRefused(answer, 400, 'BADSG', hook.eventId)
  })

  it('refuses a delivery signed with another secret, e.g. the API key secret (BADSG 400)', async () => {
    for (const secret of ['whsec_someone_else', fake.keySecret]) {
      const hook = fake.webhook('payment.captured', { orderId: order.orderId, secret })
      const answer = await post({ headers: hook.headers, body: hook.body })
      await expectRefused(answer, 400, 'BADSG', hook.eventId)
    }
  })

  it('answers 503 NOCFG without RAZORPAY_WEBHOOK_SECRET, never falling back to another secret', async () => {
    // Signed with the key secret, which is configured: it must still not be accepted.
    const hook = fake.webhook('payment.captured', {
      orderId: order.orderId,
      secret: fake.keySecret,
    })
    const answer = await post(
      { headers: hook.headers, body: hook.body },
      { RAZORPAY_WEBHOOK_SECRET: '', RAZORPAY_KEY_SECRET: fake.keySecret },
    )
    await expectRefused(answer, 503, 'NOCFG', hook.eventId)
    expect(answer.body.details).toEqual({ missing: 'RAZORPAY_WEBHOOK_SECRET' })
    expect(answer.text).not.toContain(fake.keySecret)
  })

  it('refuses a signed delivery without x-razorpay-event-id, or with one over 255 characters (BADEV 400)', async () => {
    const hook = valid()
    const missing = await post({
      headers: without(hook.headers, 'x-razorpay-event-id'),
      body: hook.body,
    })
    await expectRefused(missing, 400, 'BADEV')
    const long = await post({
      headers: { ...hook.headers, 'x-razorpay-event-id': 'e'.repeat(256) },
      body: hook.body,
    })
    await expectRefused(long, 400, 'BADEV')
  })

  it.each([
    ['unparseable JSON', '{"event": "payment.captured", "payload": '],
    ['an empty body', ''],
    ['JSON that is not an event', '{"a":1,"b":2,"c":{"d":3}}'],
    [
      'an event with an SQL-looking order id',
      JSON.stringify({
        event: 'payment.captured',
        payload: {
          payment: {
            entity: {
              id: 'pay_1',
              order_id: "order_x' or '1'='1",
              amount: 2900,
              currency: 'USD',
              status: 'captured',
            },
          },
        },
        created_at: 1,
      }),
    ],
  ])('refuses %s, even signed (BADEV 400)', async (_name, body) => {
    const hook = signWebhook(body, fake.webhookSecret, razorpayId(''))
    const answer = await post({ headers: hook.headers, body: hook.body })
    await expectRefused(answer, 400, 'BADEV', hook.eventId)
  })

  it('refuses a signed event Postgres cannot store as jsonb, a \\u0000 in a text (BADEV 400)', async () => {
    const event = JSON.parse(valid().body) as { payload: { payment: { entity: object } } }
    event.payload.payment.entity = { ...event.payload.payment.entity, description: 'a\u0000b' }
    const hook = signWebhook(event, fake.webhookSecret, razorpayId(''))
    expect(hook.body).toContain('\\u0000')
    const answer = await post({ headers: hook.headers, body: hook.body })
    await expectRefused(answer, 400, 'BADEV', hook.eventId)
    expect(answer.body.details).toEqual({ sqlstate: '22P05' })
  })

  it('refuses a signed body that is not UTF-8 (BADEV 400)', async () => {
    const bytes = new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])
    const eventId = razorpayId('')
    const signature = signHex(bytes, fake.webhookSecret)
    const answer = await post({
      headers: { 'x-razorpay-signature': signature, 'x-razorpay-event-id': eventId },
      body: bytes,
    })
    await expectRefused(answer, 400, 'BADEV', eventId)
  })

  it('refuses a body over 256 KiB announced by Content-Length (TOOBG 413)', async () => {
    const body = `{"pad":"${'x'.repeat(RAZORPAY_WEBHOOK_BODY_LIMIT)}"}`
    const hook = signWebhook(body, fake.webhookSecret, razorpayId(''))
    const answer = await post({
      headers: { ...hook.headers, 'content-length': String(Buffer.byteLength(body)) },
      body,
    })
    await expectRefused(answer, 413, 'TOOBG', hook.eventId)
    expect(answer.body.details).toEqual({ limit: RAZORPAY_WEBHOOK_BODY_LIMIT })
  })

  it('refuses a body over 256 KiB streamed without Content-Length (TOOBG 413)', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024))
    let sent = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 5) controller.close()
        else {
          sent += 1
          controller.enqueue(chunk)
        }
      },
    })
    const eventId = razorpayId('')
    const answer = await post({
      headers: { 'x-razorpay-signature': 'a'.repeat(64), 'x-razorpay-event-id': eventId },
      body: stream,
      duplex: 'half',
    })
    await expectRefused(answer, 413, 'TOOBG', eventId)
  })

  it('answers 404 NOTFD to other paths and methods', async () => {
    const hook = valid()
    const other = await app.request('/razorpay-webhook/extra', hook.init, {
      RAZORPAY_WEBHOOK_SECRET: fake.webhookSecret,
    })
    expect(other.status).toBe(404)
    expect(await other.json()).toMatchObject({ code: 'NOTFD' })
    // GET is the health check (functions_answer_get_on_their_base_path_…).
    const put = await app.request('/razorpay-webhook', { method: 'PUT' })
    expect(put.status).toBe(404)
    expect(await ledgerOf(sql, hook.eventId)).toBeUndefined()
  })

  it('still applies the genuine delivery afterwards (the refusals changed nothing)', async () => {
    const hook = valid()
    const answer = await post({ headers: hook.headers, body: hook.body })
    expect(answer).toMatchObject({ status: 200, body: { received: true } })
    expect(await subscriptionsOf(sql, userId)).toMatchObject([{ plan_id: 'pro', status: 'active' }])
  })
})
