import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  auditOf,
  billingHarness,
  consume,
  customerOf,
  invoicesOf,
  paidStripeCheckout,
  subscriptionsOf,
  usageOf,
  type BillingHarness,
  type Caller,
} from '../../helpers/billing.ts'

let h: BillingHarness
beforeAll(async () => {
  h = await billingHarness()
})
afterAll(() => h.close())

// 250 of free's 1,000 calls used: 750 carry over onto pro's 100,000.
const PRO_USAGE = [
  { metric: 'api_calls', used: '0', quota: '100750', remaining: '100750' },
  { metric: 'api_keys', used: '0', quota: '20', remaining: '20' },
  { metric: 'projects', used: '0', quota: '100', remaining: '100' },
  { metric: 'requests', used: '0', quota: '1000', remaining: '1000' },
  { metric: 'storage_gb', used: '0', quota: '50', remaining: '50' },
]

const freeUserWith250Calls = async (): Promise<Caller> => {
  const caller = await h.signIn()
  await consume(h.sql, caller, 'api_calls', 250)
  return caller
}

const verify = (caller: Caller, sessionId: string) =>
  h.post('verify-payment', caller, { provider: 'stripe', session_id: sessionId })

const allReceived = (count: number) =>
  Array.from({ length: count }, () => ({ status: 200, body: { received: true } }))

describe('a Stripe checkout paid, then verify-payment and the webhook', () => {
  it('verify-payment first: pro at once with carried-over usage; the events after change nothing', async () => {
    const caller = await freeUserWith250Calls()
    const paid = await paidStripeCheckout(h, caller, 'pro')
    const subscription = h.stripe.state.subscriptions.get(paid.subscriptionId)
    const item = subscription?.items.data[0]

    const answer = await verify(caller, paid.sessionId)

    expect(answer).toEqual({
      status: 200,
      body: {
        subscription: expect.objectContaining({
          user_id: caller.id,
          plan_id: 'pro',
          status: 'active',
          provider: 'stripe',
          cancel_at_period_end: false,
        }),
      },
    })
    const applied = await subscriptionsOf(h.sql, caller.id)
    expect(applied).toEqual([
      {
        id: answer.body.subscription.id,
        plan_id: 'pro',
        status: 'active',
        provider: 'stripe',
        current_period_start: item.current_period_start,
        current_period_end: item.current_period_end,
        billing_cycle_anchor: subscription?.billing_cycle_anchor,
        cancel_at_period_end: false,
        canceled_at: null,
        ended_at: null,
        trial_end: null,
      },
    ])
    expect(await usageOf(h.sql, caller)).toEqual(PRO_USAGE)
    expect(await customerOf(h.sql, caller.id)).toBe(subscription?.customer)

    // Stripe's events arrive after (each one twice): the state stays as verify-payment left it.
    expect(await h.deliverStripe([...paid.events, ...paid.events])).toEqual(
      allReceived(paid.events.length * 2),
    )
    expect(await subscriptionsOf(h.sql, caller.id)).toEqual(applied)
    expect(await usageOf(h.sql, caller)).toEqual(PRO_USAGE)
    expect(await auditOf(h.sql, caller.id)).toEqual([
      {
        action: 'insert',
        old_values: null,
        new_values: { plan_id: 'pro', status: 'active' },
        reason: `stripe:verify:${paid.sessionId}`,
      },
    ])
    expect(await invoicesOf(h.sql, caller.id)).toEqual([
      expect.objectContaining({
        subscription_id: applied[0]?.id,
        status: 'paid',
        amount_paid: '2900',
      }),
    ])
  })

  it('the webhook first: verify-payment after answers the same subscription and applies nothing again', async () => {
    const caller = await freeUserWith250Calls()
    const paid = await paidStripeCheckout(h, caller, 'pro')

    expect(await h.deliverStripe(paid.events)).toEqual(allReceived(paid.events.length))
    const applied = await subscriptionsOf(h.sql, caller.id)
    expect(applied).toEqual([
      expect.objectContaining({ plan_id: 'pro', status: 'active', provider: 'stripe' }),
    ])
    expect(await usageOf(h.sql, caller)).toEqual(PRO_USAGE)

    const answer = await verify(caller, paid.sessionId)
    expect(answer).toEqual({
      status: 200,
      body: {
        subscription: expect.objectContaining({
          id: applied[0]?.id,
          plan_id: 'pro',
          status: 'active',
        }),
      },
    })
    expect(await subscriptionsOf(h.sql, caller.id)).toEqual(applied)
    expect(await usageOf(h.sql, caller)).toEqual(PRO_USAGE)
    const audit = await auditOf(h.sql, caller.id)
    expect(audit).toEqual([
      expect.objectContaining({
        action: 'insert',
        new_values: { plan_id: 'pro', status: 'active' },
      }),
    ])
    expect(audit[0]?.reason).toMatch(/^stripe:evt_/)
  })

  it('verify-payment twice: the same subscription, applied once', async () => {
    const caller = await freeUserWith250Calls()
    const paid = await paidStripeCheckout(h, caller, 'pro')

    const first = await verify(caller, paid.sessionId)
    const second = await verify(caller, paid.sessionId)

    expect(first.status).toBe(200)
    // The same snapshot may be written again (updated_at), but nothing about it changes.
    const { updated_at: _, ...subscription } = first.body.subscription
    expect(second).toEqual({
      status: 200,
      body: { subscription: { ...subscription, updated_at: expect.any(String) } },
    })
    expect(await subscriptionsOf(h.sql, caller.id)).toHaveLength(1)
    expect(await usageOf(h.sql, caller)).toEqual(PRO_USAGE)
    expect((await auditOf(h.sql, caller.id)).map((row) => row.action)).toEqual(['insert'])
  })
})

describe('the subscription verify-payment answers with', () => {
  it('is the row as the user reads it: no provider id from tollgate_private', async () => {
    const caller = await freeUserWith250Calls()
    const paid = await paidStripeCheckout(h, caller, 'pro')
    const answer = await verify(caller, paid.sessionId)
    expect(answer.status).toBe(200)
    const keys = Object.keys(answer.body.subscription).sort()
    expect(keys).toEqual(
      [
        'billing_cycle_anchor', 'cancel_at_period_end', 'canceled_at', 'created_at',
        'current_period_end', 'current_period_start', 'ended_at', 'id', 'plan_id', 'provider',
        'status', 'trial_end', 'updated_at', 'user_id',
      ].sort(),
    )
    expect(JSON.stringify(answer.body)).not.toContain(paid.subscriptionId)
  })
})
