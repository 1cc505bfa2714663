import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  auditOf,
  billingHarness,
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

const stateOf = async (userId: string) => ({
  subscriptions: await h.sql`
    select id, plan_id, status, provider, current_period_start, current_period_end
    from tollgate.subscriptions where user_id = ${userId}`,
  invoices: await h.sql`
    select subscription_id, number, amount_paid, period_start, period_end
    from tollgate.invoices where user_id = ${userId}`,
  audit: await auditOf(h.sql, userId),
})

const received = { status: 200, body: { received: true } }

describe('a Razorpay order paid, then verify-payment and the webhook', () => {
  it('verify-payment first: the webhook events after (each twice) apply nothing again', async () => {
    const caller = await h.signIn()
    const paid = await paidRazorpayCheckout(h, caller, 'pro')
    const answer = await verify(caller, paid)
    expect(answer.status).toBe(200)
    const applied = await stateOf(caller.id)

    const captured = h.razorpay.webhook('payment.captured', { orderId: paid.razorpay_order_id })
    const orderPaid = h.razorpay.webhook('order.paid', { orderId: paid.razorpay_order_id })
    for (const hook of [captured, orderPaid, captured, orderPaid]) {
      expect(await h.deliverRazorpay(hook)).toEqual(received)
    }

    expect(await stateOf(caller.id)).toEqual(applied)
    expect(applied.subscriptions).toEqual([
      expect.objectContaining({
        id: answer.body.subscription.id,
        plan_id: 'pro',
        status: 'active',
      }),
    ])
    expect(applied.invoices).toHaveLength(1)
    expect(applied.audit).toEqual([
      {
        action: 'insert',
        old_values: null,
        new_values: { plan_id: 'pro', status: 'active' },
        reason: 'razorpay:verify',
      },
    ])
  })

  it('the webhook first: verify-payment after answers the same subscription and applies nothing again', async () => {
    const caller = await h.signIn()
    const paid = await paidRazorpayCheckout(h, caller, 'pro')
    const hook = h.razorpay.webhook('payment.captured', { orderId: paid.razorpay_order_id })
    expect(await h.deliverRazorpay(hook)).toEqual(received)
    const applied = await stateOf(caller.id)

    const answer = await verify(caller, paid)

    expect(answer).toEqual({
      status: 200,
      body: {
        subscription: expect.objectContaining({
          id: applied.subscriptions[0]?.id,
          plan_id: 'pro',
          status: 'active',
          provider: 'razorpay',
        }),
      },
    })
    expect(await stateOf(caller.id)).toEqual(applied)
    expect(applied.invoices).toHaveLength(1)
    expect(applied.audit).toEqual([
      expect.objectContaining({ action: 'insert', reason: `razorpay:${hook.eventId}` }),
    ])
  })
})
