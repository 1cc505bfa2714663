import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inject } from 'vitest'
import { createRazorpayWebhookApp } from '../../../functions/razorpay-webhook/app.ts'
import { createDb } from '../../../packages/db/src/client.ts'
import { refundRazorpayPayment } from '../../../packages/providers/razorpay/src/index.ts'
import { startFakeRazorpay, type FakeRazorpay, type FakeWebhook } from '../../helpers/fake-razorpay.ts'
import { createUser, ownerSql } from '../../helpers/db.ts'

const sql = ownerSql()
const db = createDb(inject('databaseUrl'), { applicationName: 'tollgate-razorpay-refund-test' })
const app = createRazorpayWebhookApp({ db: () => db })
let fake: FakeRazorpay
beforeAll(async () => {
  fake = await startFakeRazorpay()
})
afterAll(async () => {
  await fake.close()
  await db.end()
  await sql.end()
})

const deliver = async (hook: FakeWebhook) => {
  const response = await app.request('/razorpay-webhook', hook.init, { RAZORPAY_WEBHOOK_SECRET: fake.webhookSecret })
  return { status: response.status, body: (await response.json()) as any }
}

// A paid purchase whose payment is at the fake, recorded as the purchase helper records one.
const paidPurchase = async () => {
  const user = await createUser(sql)
  const paid = fake.pay(`order_R${user.id.replaceAll('-', '').slice(0, 13)}`, { amount: 80000, currency: 'INR' })
  const [purchase] = await sql<{ id: string }[]>`
    insert into tollgate.purchases (user_id, product_id, provider, currency, amount_paid, checkout_id)
    values (${user.id}, 'api_calls_pack', 'razorpay', 'inr', 80000, gen_random_uuid()) returning id`
  await sql`select tollgate_private.grant_credits(${user.id}, 'api_calls', 50000, null, 'purchase', ${purchase!.id})`
  await sql`insert into tollgate_private.provider_refs (provider, object_type, provider_id, local_id, user_id, details)
    values ('razorpay', 'payment', ${paid.razorpay_payment_id}, ${purchase!.id}, ${user.id},
      ${sql.json({ kind: 'purchase', order_id: paid.razorpay_order_id })})`
  return { user, purchaseId: purchase!.id, paymentId: paid.razorpay_payment_id }
}

const stateOf = async (purchaseId: string) => {
  const [row] = await sql`
    select p.status, p.amount_refunded::int, g.remaining::int
    from tollgate.purchases p join tollgate.credit_balances g on g.purchase_id = p.id where p.id = ${purchaseId}`
  return row
}

describe('razorpay-webhook: refund events', () => {
  it('a partial refund made at Razorpay: created, processed and a redelivery count it once', async () => {
    const { user, purchaseId, paymentId } = await paidPurchase()
    const refund = await refundRazorpayPayment(fake.env, { paymentId, amount: 30000, idempotencyKey: 'k', requestId: 'r' })
    const at = Math.floor(Date.now() / 1000)
    const created = fake.refundWebhook('refund.created', refund.id, { createdAt: at })
    const processed = fake.refundWebhook('refund.processed', refund.id, { createdAt: at })

    const answers = [await deliver(processed), await deliver(created), await deliver(processed)]

    expect(answers.map((a) => a.status)).toEqual([200, 200, 200])
    expect(await stateOf(purchaseId)).toEqual({ status: 'partially_refunded', amount_refunded: 30000, remaining: 50000 })
    const ledger = await sql`select type, outcome, attempts from tollgate_private.webhook_events
      where provider = 'razorpay' and event_id = any(${[processed.eventId, created.eventId]}) order by type`
    expect(ledger).toEqual([
      { type: 'refund.created', outcome: 'stale', attempts: 1 },
      { type: 'refund.processed', outcome: 'applied', attempts: 2 },
    ])
    const [{ n }] = await sql`select count(*)::int as n from tollgate.notifications where user_id = ${user.id} and kind = 'payment_refunded'`
    expect(n).toBe(1)
  })

  it('refund.failed counts for nothing', async () => {
    const { purchaseId, paymentId } = await paidPurchase()
    const refund = await refundRazorpayPayment(fake.env, { paymentId, amount: 80000, idempotencyKey: 'k2', requestId: 'r2' })
    expect((await deliver(fake.refundWebhook('refund.failed', refund.id))).status).toBe(200)
    expect(await stateOf(purchaseId)).toEqual({ status: 'paid', amount_refunded: 0, remaining: 50000 })
  })

  it('refuses a refund event without its refund entity (400)', async () => {
    const { paymentId } = await paidPurchase()
    const refund = await refundRazorpayPayment(fake.env, { paymentId, amount: 10000, idempotencyKey: 'k3', requestId: 'r3' })
    const hook = fake.refundWebhook('refund.processed', refund.id)
    const body = JSON.parse(hook.body)
    delete body.payload.refund
    const { signWebhook } = await import('../../helpers/fake-razorpay.ts')
    const broken = signWebhook(body, fake.webhookSecret)
    expect((await deliver(broken)).status).toBe(400)
  })
})
