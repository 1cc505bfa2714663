import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inject } from 'vitest'
import postgres from 'postgres'
import { createRazorpayWebhookApp } from '../../../functions/razorpay-webhook/app.ts'
import { Int8, type Db } from '../../../packages/db/src/client.ts'
import { startFakeRazorpay, type FakeRazorpay, type FakeWebhook } from '../../helpers/fake-razorpay.ts'
import { ownerSql } from '../../helpers/db.ts'
import { beginSession } from '../../sql/consume_usage/support.ts'
import {
  checkoutOrderAt,
  invoicesOf,
  ledgerOf,
  subscriptionsOf,
  testUsers,
} from '../../sql/apply_razorpay/support.ts'

const sql = ownerSql()
// The function's pool gives up on a lock after 300 ms, so a held order row makes the apply fail.
const db: Db = postgres(inject('databaseUrl'), {
  prepare: false,
  max: 2,
  types: { int8: Int8 },
  onnotice: () => {},
  connection: { application_name: 'tollgate-razorpay-webhook-test', lock_timeout: 300 },
})
const app = createRazorpayWebhookApp({ db: () => db })
const users = testUsers(sql)
let fake: FakeRazorpay
beforeAll(async () => {
  fake = await startFakeRazorpay()
})
afterAll(async () => {
  await fake.close()
  await users.drop()
  await db.end()
  await sql.end()
})

const deliver = async (hook: FakeWebhook) => {
  const response = await app.request('/razorpay-webhook', hook.init, {
    RAZORPAY_WEBHOOK_SECRET: fake.webhookSecret,
  })
  return { status: response.status, body: (await response.json()) as unknown }
}

describe('POST /razorpay-webhook when applying the event fails on our side', () => {
  it('answers 500, notes the error in the ledger, keeps no partial state, and the retry applies it', async () => {
    const user = await users.create()
    const order = await checkoutOrderAt(fake, sql, user.id)
    fake.pay(order.orderId)
    const hook = fake.webhook('payment.captured', { orderId: order.orderId })

    // Something else holds the order row (a stuck transaction).
    const blocker = await beginSession(sql)
    await blocker.q`
      select 1 from tollgate_private.provider_refs
      where provider = 'razorpay' and object_type = 'order' and provider_id = ${order.orderId}
      for update`
    let failed: Awaited<ReturnType<typeof deliver>>
    try {
      failed = await deliver(hook)
    } finally {
      await blocker.end('rollback')
    }

    // onError passes the SQLSTATE (lock_not_available) as the code, with no SQL text.
    expect(failed).toEqual({
      status: 500,
      body: { code: '55P03', message: 'Internal error', details: null, hint: null },
    })
    expect(await ledgerOf(sql, hook.eventId)).toMatchObject({
      type: 'payment.captured',
      outcome: null,
      processed: false,
      attempts: 1,
      error: expect.stringMatching(/^55P03: /),
    })
    expect(await subscriptionsOf(sql, user.id)).toEqual([])
    expect(await invoicesOf(sql, user.id)).toEqual([])

    // Razorpay retries the same event: now it applies, once.
    expect(await deliver(hook)).toEqual({ status: 200, body: { received: true } })
    const createdAt = (JSON.parse(hook.body) as { created_at: number }).created_at
    expect(await ledgerOf(sql, hook.eventId)).toMatchObject({
      outcome: 'applied',
      processed: true,
      attempts: 2,
      error: null,
      // What the failure note could not know is filled in by the successful apply.
      event_created_at: new Date(createdAt * 1000),
    })
    expect(await subscriptionsOf(sql, user.id)).toMatchObject([
      { plan_id: 'pro', status: 'active' },
    ])
    expect(await invoicesOf(sql, user.id)).toHaveLength(1)
  })

  it('answers 500 when the database cannot be reached at all', async () => {
    const unreachable = postgres('postgres://postgres@127.0.0.1:1/none', {
      prepare: false,
      max: 1,
      types: { int8: Int8 },
      connect_timeout: 2,
      onnotice: () => {},
    })
    const broken = createRazorpayWebhookApp({ db: () => unreachable })
    try {
      const user = await users.create()
      const order = await checkoutOrderAt(fake, sql, user.id)
      const hook = fake.webhook('payment.captured', {
        orderId: order.orderId,
        amount: order.amount,
      })
      const response = await broken.request('/razorpay-webhook', hook.init, {
        RAZORPAY_WEBHOOK_SECRET: fake.webhookSecret,
      })
      expect(response.status).toBe(500)
      expect(await response.json()).toEqual({
        code: 'INTRN',
        message: 'Internal error',
        details: null,
        hint: null,
      })
      expect(await ledgerOf(sql, hook.eventId)).toBeUndefined()
    } finally {
      await unreachable.end()
    }
  })
})
