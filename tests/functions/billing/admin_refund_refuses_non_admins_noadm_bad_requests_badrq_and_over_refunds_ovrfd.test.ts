import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { billingHarness, type BillingHarness } from '../../helpers/billing.ts'
import { purchaseOf, purchasePaidAt, signInAdmin } from './admin-refund-support.ts'

let h: BillingHarness
beforeAll(async () => {
  h = await billingHarness()
})
afterAll(() => h.close())

const requestsOf = async (purchaseId: string) => {
  const [{ n }] = await h.sql`select count(*)::int as n from tollgate_private.refund_requests where purchase_id = ${purchaseId}`
  return n
}

describe('POST /billing/admin/refund refuses', () => {
  it('a signed-in user who is not an admin, even for their own purchase (403 NOADM), changing nothing', async () => {
    const buyer = await h.signIn()
    const purchase = await purchasePaidAt(h, buyer.id)
    const from = h.stripe.state.requests.length

    const answer = await h.post('admin/refund', buyer, { purchase_id: purchase.purchaseId, reason: 'please' })

    expect(answer).toMatchObject({ status: 403, body: { code: 'NOADM' } })
    expect(h.stripe.state.requests.slice(from)).toEqual([])
    expect(await requestsOf(purchase.purchaseId)).toBe(0)
    expect(await purchaseOf(h, purchase.purchaseId)).toEqual({ status: 'paid', amount_refunded: 0, remaining: 50000 })
  })

  it('no token (401 NOJWT)', async () => {
    const answer = await h.post('admin/refund', null, { purchase_id: crypto.randomUUID(), reason: 'x' })
    expect(answer).toMatchObject({ status: 401, body: { code: 'NOJWT' } })
  })

  it.each([
    ['both ids', { invoice_id: crypto.randomUUID(), purchase_id: crypto.randomUUID(), reason: 'x' }],
    ['no id', { reason: 'x' }],
    ['no reason', { purchase_id: crypto.randomUUID() }],
    ['a blank reason', { purchase_id: crypto.randomUUID(), reason: '   ' }],
    ['a zero amount', { purchase_id: crypto.randomUUID(), amount: 0, reason: 'x' }],
    ['a fractional amount', { purchase_id: crypto.randomUUID(), amount: 1.5, reason: 'x' }],
    ['an unknown field', { purchase_id: crypto.randomUUID(), reason: 'x', force: true }],
  ])('a body with %s (400 BADRQ)', async (_, body) => {
    const admin = await signInAdmin(h)
    const answer = await h.post('admin/refund', admin, body)
    expect(answer).toMatchObject({ status: 400, body: { code: 'BADRQ' } })
  })

  it('an unknown purchase (404 NOTFD)', async () => {
    const admin = await signInAdmin(h)
    const answer = await h.post('admin/refund', admin, { purchase_id: crypto.randomUUID(), reason: 'x' })
    expect(answer).toMatchObject({ status: 404, body: { code: 'NOTFD' } })
  })

  it('more than is left to refund (422 OVRFD), before and after a partial refund, calling no provider', async () => {
    const admin = await signInAdmin(h)
    const buyer = await h.signIn()
    const purchase = await purchasePaidAt(h, buyer.id)

    const over = await h.post('admin/refund', admin, { purchase_id: purchase.purchaseId, amount: 1001, reason: 'too much' })
    expect(over).toMatchObject({ status: 422, body: { code: 'OVRFD' } })
    expect((await h.post('admin/refund', admin, { purchase_id: purchase.purchaseId, amount: 600, reason: 'part' })).status).toBe(200)
    const from = h.stripe.requestsTo('POST', '/v1/refunds').length
    const again = await h.post('admin/refund', admin, { purchase_id: purchase.purchaseId, amount: 401, reason: 'more' })

    expect(again).toMatchObject({ status: 422, body: { code: 'OVRFD' } })
    expect(h.stripe.requestsTo('POST', '/v1/refunds').length).toBe(from)
    expect(await requestsOf(purchase.purchaseId)).toBe(1)
    expect(await purchaseOf(h, purchase.purchaseId)).toMatchObject({ amount_refunded: 600 })
  })
})
