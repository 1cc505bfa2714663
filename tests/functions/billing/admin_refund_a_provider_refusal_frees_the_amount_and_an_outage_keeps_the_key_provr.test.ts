import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { billingHarness, type BillingHarness } from '../../helpers/billing.ts'
import { purchaseOf, purchasePaidAt, signInAdmin } from './admin-refund-support.ts'

let h: BillingHarness
beforeAll(async () => {
  h = await billingHarness()
})
afterAll(() => h.close())

const requestsOf = (purchaseId: string) =>
  h.sql`select state, error is not null as has_error from tollgate_private.refund_requests
    where purchase_id = ${purchaseId} order by created_at`

describe('an admin refund the provider does not make', () => {
  it('refused (Stripe 400): 502 PROVR, the request failed and audited, its amount free for the next one', async () => {
    const admin = await signInAdmin(h)
    const buyer = await h.signIn()
    const purchase = await purchasePaidAt(h, buyer.id)
    h.stripe.fail('POST', '/v1/refunds', { status: 400, code: 'charge_disputed', message: 'This charge is disputed' })

    const refused = await h.post('admin/refund', admin, { purchase_id: purchase.purchaseId, reason: 'all of it' })
    expect(refused).toMatchObject({ status: 502, body: { code: 'PROVR' } })
    expect(await requestsOf(purchase.purchaseId)).toEqual([{ state: 'failed', has_error: true }])
    const [audit] = await h.sql`select new_values ->> 'state' as state from tollgate_private.audit_log
      where record_id = ${purchase.purchaseId} and new_values ? 'state'`
    expect(audit).toEqual({ state: 'failed' })

    // The same request again is a new refund request (a new key), and all 1000 are refundable.
    const retried = await h.post('admin/refund', admin, { purchase_id: purchase.purchaseId, reason: 'all of it' })
    expect(retried).toMatchObject({ status: 200, body: { refund: { amount: 1000 }, status: 'refunded' } })
    expect(await requestsOf(purchase.purchaseId)).toEqual([
      { state: 'failed', has_error: true },
      { state: 'sent', has_error: false },
    ])
  })

  it('an outage (Stripe 500): the request keeps its key and amount; the retry refunds once', async () => {
    const admin = await signInAdmin(h)
    const buyer = await h.signIn()
    const purchase = await purchasePaidAt(h, buyer.id)
    // The SDK retries twice itself (same key): three failures are an outage.
    h.stripe.fail('POST', '/v1/refunds', { status: 500 }, 3)
    const body = { purchase_id: purchase.purchaseId, amount: 500, reason: 'outage' }

    expect((await h.post('admin/refund', admin, body))).toMatchObject({ status: 502, body: { code: 'PROVR' } })
    expect(await requestsOf(purchase.purchaseId)).toEqual([{ state: 'requested', has_error: false }])
    // Held: only 500 of the 1000 are left to ask for meanwhile.
    expect(await h.post('admin/refund', admin, { purchase_id: purchase.purchaseId, amount: 501, reason: 'other' }))
      .toMatchObject({ status: 422, body: { code: 'OVRFD' } })

    const retried = await h.post('admin/refund', admin, body)

    expect(retried).toMatchObject({ status: 200, body: { refund: { amount: 500 }, amount_refunded: 500 } })
    const keys = h.stripe.requestsTo('POST', '/v1/refunds').slice(-4).map((r) => r.idempotencyKey)
    expect(new Set(keys).size).toBe(1)
    expect(await purchaseOf(h, purchase.purchaseId)).toMatchObject({ amount_refunded: 500, status: 'partially_refunded' })
  })
})
