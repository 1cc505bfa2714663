import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFakeStripe, type FakeStripe } from '../../../../tests/helpers/fake-stripe.ts'
import {
  changeStripePlan,
  createStripeCheckout,
  expireOpenSessions,
  retrieveStripeCheckout,
  setStripeCancelAtPeriodEnd,
  stripeCouponParams,
  stripePriceOf,
} from './billing.ts'
import { stripeClientFor } from './client.ts'

let fake: FakeStripe
beforeAll(async () => {
  fake = await createFakeStripe()
})
afterAll(() => fake.close())

const env = () => ({ STRIPE_SECRET_KEY: 'sk_test_steps', STRIPE_API_BASE: fake.url })
const stripe = () => stripeClientFor(env())

const failureOf = async (promise: Promise<unknown>) => {
  try {
    await promise
  } catch (error) {
    return error as { code: string; details: unknown }
  }
  throw new Error('expected a failure')
}

const checkoutFor = (userId: string, checkoutId: string) => ({
  userId,
  email: undefined,
  checkoutId,
  plan: { id: 'pro', stripe_price_id: 'price_pro_monthly', trial_days: 0 },
  customerId: null,
  coupon: null,
  successUrl: 'https://app.example.test/?checkout=success',
  cancelUrl: 'https://app.example.test/?checkout=cancel',
})

describe('expireOpenSessions', () => {
  it('needs no Stripe client when there is nothing to expire', async () => {
    await expect(expireOpenSessions({}, [])).resolves.toEqual([])
  })

  it('expires open sessions once each, and refuses over a completed one (HASUB)', async () => {
    const open = await createStripeCheckout(stripe(), checkoutFor('user-steps-1', 'co-steps-1'))
    const paid = await createStripeCheckout(stripe(), checkoutFor('user-steps-2', 'co-steps-2'))
    fake.completeCheckout(paid.sessionId)

    await expect(expireOpenSessions(env(), [open.sessionId])).resolves.toEqual([open.sessionId])
    expect(fake.requestsTo('POST', `/v1/checkout/sessions/${open.sessionId}/expire`)).toEqual([
      expect.objectContaining({ idempotencyKey: `tollgate:expire:${open.sessionId}` }),
    ])
    const failure = await failureOf(expireOpenSessions(env(), [paid.sessionId]))
    expect(failure).toMatchObject({ code: 'HASUB', details: { session_id: paid.sessionId } })
  })
})

describe('createStripeCheckout', () => {
  it('creates the customer and the session with their Idempotency-Keys', async () => {
    const session = await createStripeCheckout(stripe(), checkoutFor('user-steps-3', 'co-steps-3'))
    expect(session).toMatchObject({ sessionId: expect.stringMatching(/^cs_/), stripeCouponId: null })
    expect(
      fake.state.requests
        .filter((request) => request.idempotencyKey?.match(/user-steps-3|co-steps-3/))
        .map((request) => [request.path, request.idempotencyKey]),
    ).toEqual([
      ['/v1/customers', 'tollgate:customer:user-steps-3'],
      ['/v1/checkout/sessions', 'tollgate:checkout:co-steps-3'],
    ])
  })

  it('refuses a plan without a Stripe price (PLINA)', async () => {
    expect(() => stripePriceOf({ stripe_price_id: null })).toThrow(
      expect.objectContaining({ code: 'PLINA' }),
    )
  })

  it('answers PROVR when Stripe refuses', async () => {
    fake.fail('POST', '/v1/checkout/sessions', { status: 400, type: 'invalid_request_error' }, 1)
    const failure = await failureOf(
      createStripeCheckout(stripe(), checkoutFor('user-steps-4', 'co-steps-4')),
    )
    expect(failure).toMatchObject({ code: 'PROVR', details: { provider: 'stripe' } })
  })
})

describe('retrieveStripeCheckout', () => {
  it('answers the session with its subscription id and the subscription beside it', async () => {
    const created = await createStripeCheckout(stripe(), checkoutFor('user-steps-5', 'co-steps-5'))
    const { subscription } = fake.completeCheckout(created.sessionId)
    const retrieved = await retrieveStripeCheckout(stripe(), created.sessionId)
    expect(retrieved.session).toMatchObject({ id: created.sessionId, subscription: subscription.id })
    expect(retrieved.subscription).toMatchObject({ id: subscription.id })
  })

  it('answers NOTFD for a session Stripe does not have', async () => {
    const failure = await failureOf(retrieveStripeCheckout(stripe(), 'cs_test_missing'))
    expect(failure).toHaveProperty('code', 'NOTFD')
  })
})

describe('plan changes, cancel and resume', () => {
  it('key each attempt on the subscription, item, price and the live row', async () => {
    const created = await createStripeCheckout(stripe(), checkoutFor('user-steps-6', 'co-steps-6'))
    const { subscription } = fake.completeCheckout(created.sessionId)
    const id = String(subscription.id)
    const attempt = '2026-12-05T03:00:00+00:00'

    const changed = await changeStripePlan(stripe(), {
      userId: 'user-steps-6',
      planId: 'enterprise',
      subscriptionId: id,
      price: 'price_enterprise_monthly',
      attempt,
    })
    const item = changed.items.data[0]
    expect(item?.price.id).toBe('price_enterprise_monthly')
    const canceled = await setStripeCancelAtPeriodEnd(stripe(), {
      subscriptionId: id,
      cancel: true,
      attempt,
    })
    expect(canceled.cancel_at_period_end).toBe(true)
    const resumed = await setStripeCancelAtPeriodEnd(stripe(), {
      subscriptionId: id,
      cancel: false,
      attempt,
    })
    expect(resumed.cancel_at_period_end).toBe(false)

    expect(
      fake.requestsTo('POST', `/v1/subscriptions/${id}`).map((request) => request.idempotencyKey),
    ).toEqual([
      `tollgate:change-plan:${id}:${item?.id}:price_enterprise_monthly:${encodeURIComponent(attempt)}`,
      `tollgate:cancel:${id}:${encodeURIComponent(attempt)}`,
      `tollgate:resume:${id}:${encodeURIComponent(attempt)}`,
    ])
  })
})

describe('stripeCouponParams', () => {
  const base = {
    code: 'SAVE5',
    percent_off: null,
    amount_off: 500,
    currency: 'usd',
    stripe_coupon_id: null,
  }

  it('makes a once coupon without an end by default, its id naming the terms', () => {
    expect(stripeCouponParams(base)).toEqual({
      id: 'tollgate_SAVE5_once_500usd',
      duration: 'once',
      amount_off: 500,
      currency: 'usd',
      metadata: { tollgate_coupon_code: 'SAVE5' },
    })
  })

  it('carries repeating months and redeem_by, and gives other terms another id', () => {
    const repeating = stripeCouponParams({
      ...base,
      duration: 'repeating',
      duration_in_months: 6,
      valid_until: '2027-01-01T00:00:00.5+00:00',
    })
    expect(repeating).toMatchObject({
      id: 'tollgate_SAVE5_repeating6_500usd_until1798761600',
      duration: 'repeating',
      duration_in_months: 6,
      redeem_by: 1798761600,
    })
    const forever = stripeCouponParams({ ...base, duration: 'forever', duration_in_months: null })
    expect(forever).toMatchObject({ id: 'tollgate_SAVE5_forever_500usd', duration: 'forever' })
    expect(forever).not.toHaveProperty('duration_in_months')
    expect(stripeCouponParams({ ...base, amount_off: 600 }).id).toBe('tollgate_SAVE5_once_600usd')
  })
})
