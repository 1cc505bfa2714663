import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUser } from '../../helpers/db.ts'
import { makeStripeEvent, type StripeJson } from '../../helpers/stripe/events.ts'
import { nowSeconds } from '../../helpers/stripe/fixtures.ts'
import { answer, ledgerOf, type WebhookHarness, webhookHarness } from '../../helpers/stripe/webhook.ts'
import { chargeObject, disputeObject, paidPurchase, refundObject } from '../../sql/refunds/support.ts'

let h: WebhookHarness
beforeAll(async () => {
  h = await webhookHarness()
})
afterAll(() => h.close())

const purchaseOf = async (id: string) => {
  const [row] = await h.sql`
    select p.status, p.amount_refunded::int, g.remaining::int
    from tollgate.purchases p join tollgate.credit_balances g on g.purchase_id = p.id where p.id = ${id}`
  return row
}

const deliverAll = async (events: StripeJson[]) => {
  const answers = []
  for (const event of events) answers.push(await answer(await h.deliver(event)))
  return answers
}

describe('stripe-webhook: refunds and disputes', () => {
  it('applies charge.refunded and refund.* of one refund once, shuffled and repeated', async () => {
    const user = await createUser(h.sql)
    const purchase = await paidPurchase(h.sql, user.id)
    await h.sql`update tollgate.credit_balances set remaining = 1000 where purchase_id = ${purchase.id}`
    const at = nowSeconds() - 60
    const refund = refundObject(purchase.paymentId, 1000, 'succeeded')
    const events = [
      makeStripeEvent('refund.created', { ...refund, status: 'pending' }, { created: at }),
      makeStripeEvent('refund.updated', refund, { created: at + 1 }),
      makeStripeEvent('charge.refunded', chargeObject(purchase.paymentId, 1000, 1000, { id: refund.charge }), { created: at + 1 }),
    ]

    const answers = await deliverAll([events[2]!, events[1]!, events[0]!, events[2]!, events[1]!])

    expect(answers.every((a) => a.status === 200)).toBe(true)
    expect(await purchaseOf(purchase.id)).toEqual({ status: 'refunded', amount_refunded: 1000, remaining: 0 })
    const ledger = await ledgerOf(h.sql, events.map((e) => e.id))
    expect(ledger.map((l) => [l.type, l.outcome, l.attempts])).toEqual([
      ['refund.created', 'stale', 1],
      ['refund.updated', 'applied', 2],
      ['charge.refunded', 'applied', 2],
    ])
    const [{ n }] = await h.sql`
      select count(*)::int as n from tollgate.notifications where user_id = ${user.id} and kind = 'payment_refunded'`
    expect(n).toBe(1)
  })

  it('a dispute opened then lost revokes the credits; its events are recorded once', async () => {
    const user = await createUser(h.sql)
    const purchase = await paidPurchase(h.sql, user.id)
    const dispute = disputeObject(purchase.paymentId, 1000, 'needs_response')
    const at = nowSeconds() - 60
    const opened = makeStripeEvent('charge.dispute.created', dispute, { created: at })
    const lost = makeStripeEvent('charge.dispute.closed', { ...dispute, status: 'lost' }, { created: at + 3 })

    await deliverAll([opened, lost, opened])

    expect(await purchaseOf(purchase.id)).toEqual({ status: 'refunded', amount_refunded: 1000, remaining: 0 })
    const [{ n }] = await h.sql`
      select count(*)::int as n from tollgate.notifications where user_id = ${user.id} and kind = 'dispute_opened'`
    expect(n).toBe(1)
  })

  it('refuses a refund event whose amount is not a number (400 BADEV) and records nothing', async () => {
    const user = await createUser(h.sql)
    const purchase = await paidPurchase(h.sql, user.id)
    const event = makeStripeEvent('refund.created', { ...refundObject(purchase.paymentId, 10, 'succeeded'), amount: '10' })
    const response = await answer(await h.deliver(event))
    expect(response).toMatchObject({ status: 400, body: { code: 'BADEV' } })
    expect(await purchaseOf(purchase.id)).toMatchObject({ status: 'paid', amount_refunded: 0 })
  })
})
