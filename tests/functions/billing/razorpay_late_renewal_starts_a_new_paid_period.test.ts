import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { billingHarness, paidRazorpayCheckout, type BillingHarness } from '../../helpers/billing.ts'

let h: BillingHarness
beforeAll(async () => {
  h = await billingHarness()
})
afterAll(() => h.close())

// Review S-3 (b): a renewal paid in grace kept current_period_start and billing_cycle_anchor on the
// first payment: a two-month period on the row and quota months off the paid months.
describe('POST /billing/verify-payment of a Razorpay renewal paid after the paid end', () => {
  it('answers a subscription whose period and billing anchor start at the payment', async () => {
    const caller = await h.signIn()
    const first = await h.post('verify-payment', caller, {
      provider: 'razorpay',
      ...(await paidRazorpayCheckout(h, caller, 'pro')),
    })
    // The paid month ended two days ago; maintenance marked it past_due (grace).
    await h.sql`
      update tollgate.subscriptions
      set current_period_start = now() - interval '33 days',
          billing_cycle_anchor = now() - interval '33 days',
          current_period_end = now() - interval '2 days', status = 'past_due'
      where id = ${String(first.body.subscription.id)}`
    const [before] = await h.sql<{ now: Date }[]>`select now() as now`

    const renewed = await h.post('verify-payment', caller, {
      provider: 'razorpay',
      ...(await paidRazorpayCheckout(h, caller, 'pro')),
    })

    expect(renewed.status).toBe(200)
    const subscription = renewed.body.subscription
    expect(subscription).toMatchObject({ id: first.body.subscription.id, status: 'active' })
    expect(subscription.billing_cycle_anchor).toBe(subscription.current_period_start)
    expect(new Date(subscription.current_period_start).getTime()).toBeGreaterThanOrEqual(
      before?.now.getTime() ?? Infinity,
    )
  })
})
