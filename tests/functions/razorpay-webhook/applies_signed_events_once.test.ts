import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inject } from 'vitest'
import { createRazorpayWebhookApp } from '../../../functions/razorpay-webhook/app.ts'
import { createDb } from '../../../packages/db/src/client.ts'
import { fixtureText } from '../../../packages/providers/razorpay/fixtures/load.ts'
import {
  razorpayId,
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
} from '../../sql/apply_razorpay/support.ts'

const sql = ownerSql()
const db = createDb(inject('databaseUrl'), { applicationName: 'tollgate-razorpay-webhook-test' })
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

const paidOrder = async () => {
  const user = await users.create()
  const order = await checkoutOrderAt(fake, sql, user.id)
  fake.pay(order.orderId)
  return { user, order }
}

describe('POST /razorpay-webhook with signed events', () => {
  it('applies payment.captured: 200 {received: true}, the plan for one month and one paid invoice', async () => {
    const { user, order } = await paidOrder()
    const hook = fake.webhook('payment.captured', { orderId: order.orderId })

    expect(await deliver(hook)).toEqual({ status: 200, body: { received: true } })

    const createdAt = (JSON.parse(hook.body) as { created_at: number }).created_at
    const [period] = await sql<{ start: Date; end: Date }[]>`
      select to_timestamp(${createdAt}) as start,
        (to_timestamp(${createdAt}) at time zone 'UTC' + interval '1 month') at time zone 'UTC'
          as end`
    const subscriptions = await subscriptionsOf(sql, user.id)
    expect(subscriptions).toMatchObject([
      {
        plan_id: 'pro',
        status: 'active',
        provider: 'razorpay',
        current_period_start: period?.start,
        current_period_end: period?.end,
      },
    ])
    expect(await invoicesOf(sql, user.id)).toMatchObject([
      { number: order.orderId, status: 'paid', currency: 'usd', amount_paid: '2900' },
    ])
    expect(await ledgerOf(sql, hook.eventId)).toMatchObject({
      type: 'payment.captured',
      outcome: 'applied',
      processed: true,
      attempts: 1,
      error: null,
    })
    expect(await orderRefOf(sql, order.orderId)).toMatchObject({
      local_id: subscriptions[0]?.id,
      last_event_id: hook.eventId,
    })
  })

  it('applies the same delivery sent 3 times once (200 each time, 3 attempts in the ledger)', async () => {
    const { user, order } = await paidOrder()
    const hook = fake.webhook('order.paid', { orderId: order.orderId })

    for (let i = 0; i < 3; i += 1) {
      expect(await deliver(hook)).toEqual({ status: 200, body: { received: true } })
    }

    expect(await subscriptionsOf(sql, user.id)).toHaveLength(1)
    expect(await invoicesOf(sql, user.id)).toHaveLength(1)
    expect(await ledgerOf(sql, hook.eventId)).toMatchObject({ outcome: 'applied', attempts: 3 })
  })

  it('applies payment.captured and order.paid of one payment once, in 3 concurrent deliveries each', async () => {
    const { user, order } = await paidOrder()
    const captured = fake.webhook('payment.captured', { orderId: order.orderId })
    const paid = fake.webhook('order.paid', { orderId: order.orderId })

    const answers = await Promise.all([captured, paid, captured, paid, captured, paid].map(deliver))

    expect(answers.every((answer) => answer.status === 200)).toBe(true)
    expect(await subscriptionsOf(sql, user.id)).toMatchObject([
      { plan_id: 'pro', status: 'active' },
    ])
    expect(await invoicesOf(sql, user.id)).toHaveLength(1)
    for (const hook of [captured, paid]) {
      expect(await ledgerOf(sql, hook.eventId)).toMatchObject({
        outcome: 'applied',
        processed: true,
        attempts: 3,
      })
    }
  })

  it('records payment.failed as ignored and leaves the order to be paid', async () => {
    const user = await users.create()
    const order = await checkoutOrderAt(fake, sql, user.id)
    const failed = fake.webhook('payment.failed', { orderId: order.orderId })

    expect(await deliver(failed)).toEqual({ status: 200, body: { received: true } })
    expect(await ledgerOf(sql, failed.eventId)).toMatchObject({
      outcome: 'ignored',
      processed: true,
    })
    expect(await subscriptionsOf(sql, user.id)).toEqual([])

    fake.pay(order.orderId)
    expect(
      await deliver(fake.webhook('payment.captured', { orderId: order.orderId })),
    ).toMatchObject({
      status: 200,
    })
    expect(await subscriptionsOf(sql, user.id)).toMatchObject([{ plan_id: 'pro' }])
  })

  it.each(['subscription.charged', 'payment.authorized.card', 'payment.captured.card'])(
    'acknowledges the official %s sample, signed byte for byte, and records it',
    async (name) => {
      const body = fixtureText(`webhooks/${name}.json`)
      const hook = signWebhook(body, fake.webhookSecret, razorpayId(''))

      expect(await deliver(hook)).toEqual({ status: 200, body: { received: true } })
      // Not Tollgate's order (payment.captured) or a type it does not act on: recorded only.
      expect(await ledgerOf(sql, hook.eventId)).toMatchObject({
        type: name.split('.').slice(0, 2).join('.'),
        outcome: name === 'payment.captured.card' ? 'unlinked' : 'ignored',
        processed: true,
      })
    },
  )
})
