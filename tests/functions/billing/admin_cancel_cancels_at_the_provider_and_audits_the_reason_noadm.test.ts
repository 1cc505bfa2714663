import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  billingHarness,
  paidRazorpayCheckout,
  pastClock,
  subscribeWithStripe,
  subscriptionsOf,
  type BillingHarness,
} from '../../helpers/billing.ts'
import { signInAdmin } from './admin-refund-support.ts'

let h: BillingHarness
beforeAll(async () => {
  h = await billingHarness({ stripe: pastClock })
})
afterAll(() => h.close())

/** A Razorpay checkout of pro, paid and verified: the customer's paid period runs. */
const subscribeWithRazorpay = async (caller: Awaited<ReturnType<BillingHarness['signIn']>>) => {
  const paid = await paidRazorpayCheckout(h, caller, 'pro')
  const verified = await h.post('verify-payment', caller, { provider: 'razorpay', ...paid })
  if (verified.status !== 200) throw new Error(`verify-payment answered ${verified.status}`)
}

const auditOf = (userId: string) =>
  h.sql<{ reason: string | null; actor_user_id: string | null; new_values: Record<string, unknown> }[]>`
    select reason, actor_user_id, new_values from tollgate_private.audit_log
    where user_id = ${userId} and table_name = 'subscriptions' and reason like '%cancel%'
    order by id`

describe('POST /billing/admin/cancel and reasons of cancellations', () => {
  it('an admin cancels a Stripe subscription at once at Stripe; audited with the admin and the reason', async () => {
    const admin = await signInAdmin(h)
    const customer = await h.signIn()
    const { subscriptionId } = await subscribeWithStripe(h, customer, 'webhooks', 'pro')

    const answer = await h.post('admin/cancel', admin, { user_id: customer.id, reason: 'chargeback fraud' })

    expect(answer).toEqual({
      status: 200,
      body: { subscription: expect.objectContaining({ user_id: customer.id, status: 'canceled' }) },
    })
    expect(h.stripe.state.subscriptions.get(subscriptionId)).toMatchObject({ status: 'canceled' })
    expect((await subscriptionsOf(h.sql, customer.id)).map((s) => s.status)).toEqual(['canceled'])
    expect(await auditOf(customer.id)).toEqual([
      // The status change (trigger) and the request itself, both carrying the admin's reason.
      expect.objectContaining({ reason: 'admin cancel: chargeback fraud', actor_user_id: admin.id }),
      expect.objectContaining({
        reason: 'admin cancel: chargeback fraud',
        actor_user_id: admin.id,
        new_values: { plan_id: 'pro', status: 'canceled', cancel_at_period_end: false },
      }),
    ])
  })

  it('at_period_end cancels a Razorpay period at its end; a user without a subscription is 404 NOSUB', async () => {
    const admin = await signInAdmin(h)
    const customer = await h.signIn()
    await subscribeWithRazorpay(customer)

    const answer = await h.post('admin/cancel', admin, {
      user_id: customer.id,
      reason: 'moving to invoicing',
      at_period_end: true,
    })

    expect(answer).toMatchObject({
      status: 200,
      body: { subscription: { status: 'active', cancel_at_period_end: true } },
    })
    expect(await auditOf(customer.id)).toEqual([
      expect.objectContaining({
        reason: 'admin cancel: moving to invoicing',
        actor_user_id: admin.id,
        new_values: { plan_id: 'pro', status: 'active', cancel_at_period_end: true },
      }),
    ])
    const nobody = await h.signIn()
    expect(await h.post('admin/cancel', admin, { user_id: nobody.id, reason: 'x' })).toMatchObject({
      status: 404,
      body: { code: 'NOSUB' },
    })
  })

  it('refuses a user who is no admin (403 NOADM) and a body without a reason (400 BADRQ), changing nothing', async () => {
    const customer = await h.signIn()
    const { subscriptionId } = await subscribeWithStripe(h, customer, 'webhooks', 'pro')
    const from = h.stripe.state.requests.length

    expect(await h.post('admin/cancel', customer, { user_id: customer.id, reason: 'x' })).toMatchObject({
      status: 403,
      body: { code: 'NOADM' },
    })
    const admin = await signInAdmin(h)
    expect(await h.post('admin/cancel', admin, { user_id: customer.id })).toMatchObject({
      status: 400,
      body: { code: 'BADRQ' },
    })
    expect(h.stripe.state.requests.length).toBe(from)
    expect(h.stripe.state.subscriptions.get(subscriptionId)).toMatchObject({ status: 'active' })
  })

  it("a user's own cancellation records their reason (or that none was given)", async () => {
    const withReason = await h.signIn()
    const without = await h.signIn()
    await subscribeWithStripe(h, withReason, 'webhooks', 'pro')
    await subscribeWithRazorpay(without)

    expect(await h.post('cancel', withReason, { reason: 'too expensive' })).toMatchObject({ status: 200 })
    expect(await h.post('cancel', without)).toMatchObject({ status: 200 })
    expect(await h.post('cancel', without, { reason: 'x'.repeat(501) })).toMatchObject({
      status: 400,
      body: { code: 'BADRQ' },
    })

    expect(await auditOf(withReason.id)).toEqual([
      expect.objectContaining({
        reason: 'user cancel: too expensive',
        actor_user_id: withReason.id,
        new_values: { plan_id: 'pro', status: 'active', cancel_at_period_end: true },
      }),
    ])
    expect(await auditOf(without.id)).toEqual([
      expect.objectContaining({ reason: 'user cancel', actor_user_id: without.id }),
    ])
  })
})
