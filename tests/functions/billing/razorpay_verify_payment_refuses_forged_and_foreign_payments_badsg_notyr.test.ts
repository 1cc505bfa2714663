import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { razorpayId } from '../../helpers/fake-razorpay.ts'
import {
  billingHarness,
  footprintOf,
  paidRazorpayCheckout,
  type BillingHarness,
  type Caller,
} from '../../helpers/billing.ts'

let h: BillingHarness
beforeAll(async () => {
  h = await billingHarness()
})
afterAll(() => h.close())

const verify = (caller: Caller, paid: Record<string, string>) =>
  h.post('verify-payment', caller, { provider: 'razorpay', ...paid })

const hmac = (message: string, secret: string) =>
  createHmac('sha256', secret).update(message).digest('hex')

describe('POST /billing/verify-payment with a Razorpay payment it must not apply', () => {
  it('refuses forged signatures (BADSG) and changes nothing', async () => {
    const caller = await h.signIn()
    const paid = await paidRazorpayCheckout(h, caller, 'pro')
    const before = await footprintOf(h.sql, caller.id)
    const otherPayment = razorpayId('pay')
    const forgeries = {
      'signed with another secret': hmac(
        `${paid.razorpay_order_id}|${paid.razorpay_payment_id}`,
        'guess',
      ),
      'signed with the webhook secret': hmac(
        `${paid.razorpay_order_id}|${paid.razorpay_payment_id}`,
        h.razorpay.webhookSecret,
      ),
      'of another payment': hmac(`${paid.razorpay_order_id}|${otherPayment}`, h.razorpay.keySecret),
      'one digit changed': `${paid.razorpay_signature.slice(0, -1)}${paid.razorpay_signature.endsWith('0') ? '1' : '0'}`,
      'all zeros': '0'.repeat(64),
    }
    for (const [what, signature] of Object.entries(forgeries)) {
      const answer = await verify(caller, { ...paid, razorpay_signature: signature })
      expect([what, answer.status, answer.body.code]).toEqual([what, 400, 'BADSG'])
    }
    expect(await footprintOf(h.sql, caller.id)).toEqual(before)
    expect(before.subscriptions).toEqual([])
    expect(before.invoices).toEqual([])
  })

  it("refuses someone else's order, however well signed (NOTYR)", async () => {
    const owner = await h.signIn()
    const intruder = await h.signIn()
    const paid = await paidRazorpayCheckout(h, owner, 'pro')
    const ownerBefore = await footprintOf(h.sql, owner.id)

    expect(await verify(intruder, paid)).toEqual({
      status: 403,
      body: expect.objectContaining({ code: 'NOTYR' }),
    })
    expect(await footprintOf(h.sql, owner.id)).toEqual(ownerBefore)
    expect(ownerBefore.subscriptions).toEqual([])
    expect((await footprintOf(h.sql, intruder.id)).subscriptions).toEqual([])

    // The owner's own verification still works.
    expect((await verify(owner, paid)).status).toBe(200)
  })

  it('refuses a well-signed order Tollgate never created (NOORD)', async () => {
    const caller = await h.signIn()
    const orderId = razorpayId('order')
    const paid = h.razorpay.pay(orderId, { amount: 2900 })

    expect(await verify(caller, paid)).toEqual({
      status: 404,
      body: expect.objectContaining({ code: 'NOORD' }),
    })
    expect((await footprintOf(h.sql, caller.id)).subscriptions).toEqual([])
  })
})
