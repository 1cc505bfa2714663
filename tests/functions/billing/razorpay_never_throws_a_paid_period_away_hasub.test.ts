import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
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

const rowsOf = (userId: string) =>
  h.sql<{ plan_id: string; status: string }[]>`
    select plan_id, status from tollgate.subscriptions where user_id = ${userId} order by created_at`

const invoicesOf = (userId: string) =>
  h.sql<{ number: string; status: string; amount_paid: number; subscription_id: string | null }[]>`
    select number, status, amount_paid::int, subscription_id from tollgate.invoices
    where user_id = ${userId} order by created_at`

const verify = (caller: Caller, paid: Record<string, string>) =>
  h.post('verify-payment', caller, { provider: 'razorpay', ...paid })

const order = async (caller: Caller, planId: string) => {
  const answer = await h.post('checkout', caller, { plan_id: planId, provider: 'razorpay' })
  expect(answer.status).toBe(200)
  return String(answer.body.order_id)
}

// Review S-1: enterprise paid and live, then a pro order captured: enterprise ended ~29 days
// before its paid end and pro started, two overlapping paid invoices.
describe('Razorpay while a paid period of enterprise runs', () => {
  it('refuses a checkout for another plan (409 HASUB) and allows a renewal', async () => {
    const caller = await h.signIn()
    expect((await verify(caller, await paidRazorpayCheckout(h, caller, 'enterprise'))).status).toBe(
      200,
    )
    const other = await h.post('checkout', caller, { plan_id: 'pro', provider: 'razorpay' })
    expect(other).toEqual({ status: 409, body: expect.objectContaining({ code: 'HASUB' }) })
    const renewal = await h.post('checkout', caller, { plan_id: 'enterprise', provider: 'razorpay' })
    expect(renewal.status).toBe(200)
  })

  it('holds an older order for another plan paid late: the paid period and plan stay', async () => {
    const caller = await h.signIn()
    const proOrder = await order(caller, 'pro')
    const enterpriseOrder = await order(caller, 'enterprise')
    const enterprise = await verify(caller, h.razorpay.pay(enterpriseOrder))
    expect(enterprise.body.subscription).toMatchObject({ plan_id: 'enterprise', status: 'active' })

    // The slow UPI payment of the older order lands: webhook first, then verify-payment.
    const paid = h.razorpay.pay(proOrder)
    const hook = h.razorpay.webhook('payment.captured', {
      orderId: proOrder,
      paymentId: paid.razorpay_payment_id,
      amount: 2900,
    })
    expect(await h.deliverRazorpay(hook)).toEqual({ status: 200, body: { received: true } })
    const verified = await verify(caller, paid)

    expect(verified.status).toBe(200)
    expect(verified.body.subscription).toMatchObject({
      id: enterprise.body.subscription.id,
      plan_id: 'enterprise',
      status: 'active',
      current_period_end: enterprise.body.subscription.current_period_end,
    })
    expect(await rowsOf(caller.id)).toEqual([{ plan_id: 'enterprise', status: 'active' }])
    expect(await invoicesOf(caller.id)).toEqual([
      {
        number: enterpriseOrder,
        status: 'paid',
        amount_paid: 9900,
        subscription_id: enterprise.body.subscription.id,
      },
      { number: proOrder, status: 'paid', amount_paid: 2900, subscription_id: null },
    ])
    const [ref] = await h.sql<{ state: string }[]>`
      select details ->> 'state' as state from tollgate_private.provider_refs
      where provider = 'razorpay' and object_type = 'order' and provider_id = ${proOrder}`
    expect(ref).toEqual({ state: 'held' })
  })
})
