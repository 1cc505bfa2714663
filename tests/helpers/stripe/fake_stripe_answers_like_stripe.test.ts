import Stripe from 'stripe'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createStripeClient,
  idempotencyKey,
} from '../../../packages/providers/stripe/src/client.ts'
import {
  StripeCheckoutSessionObject,
  StripeInvoiceObject,
  StripeSubscriptionObject,
} from '../../../packages/providers/stripe/src/normalize.ts'
import {
  parseStripeEvent,
  verifyStripeWebhook,
} from '../../../packages/providers/stripe/src/webhook.ts'
import { createFakeStripe, type FakeStripe } from '../fake-stripe.ts'
import { encodeStripeForm, parseStripeForm } from './form.ts'

let fake: FakeStripe
let stripe: Stripe
beforeAll(async () => {
  fake = await createFakeStripe()
  stripe = createStripeClient(
    { STRIPE_SECRET_KEY: 'sk_test_fake', STRIPE_API_BASE: fake.url },
    { maxNetworkRetries: 0 },
  )
})
afterAll(() => fake.close())

const failureOf = async (promise: Promise<unknown>): Promise<Record<string, unknown>> => {
  try {
    await promise
  } catch (error) {
    return error as Record<string, unknown>
  }
  throw new Error('expected the call to fail')
}

const checkout = async (userId: string, extra: Stripe.Checkout.SessionCreateParams = {}) => {
  const customer = await stripe.customers.create(
    { email: `${userId}@example.test`, metadata: { user_id: userId } },
    { idempotencyKey: idempotencyKey('customer', userId) },
  )
  const session = await stripe.checkout.sessions.create(
    {
      mode: 'subscription',
      line_items: [{ price: 'price_pro_monthly', quantity: 1 }],
      customer: customer.id,
      client_reference_id: userId,
      metadata: { user_id: userId, tollgate_checkout_id: `chk-${userId}` },
      subscription_data: { metadata: { user_id: userId } },
      success_url: 'https://app.example.test/ok',
      cancel_url: 'https://app.example.test/cancel',
      ...extra,
    },
    { idempotencyKey: idempotencyKey('checkout', userId) },
  )
  return { customer, session }
}

describe('parseStripeForm', () => {
  it('reads Stripe bracket notation into nested maps and lists', () => {
    expect(
      parseStripeForm(
        'mode=subscription&line_items[0][price]=p&line_items[0][quantity]=2&metadata[user_id]=u%20x&expand[]=a&expand[]=b&discounts[0][coupon]=C',
      ),
    ).toEqual({
      mode: 'subscription',
      line_items: [{ price: 'p', quantity: '2' }],
      metadata: { user_id: 'u x' },
      expand: ['a', 'b'],
      discounts: [{ coupon: 'C' }],
    })
  })

  it('round-trips what encodeStripeForm (the SDK encoding) writes', () => {
    const data = {
      items: [{ id: 'si_1', price: 'p' }],
      cancel_at_period_end: 'true',
      metadata: { a: '' },
    }
    expect(parseStripeForm(encodeStripeForm(data))).toEqual(data)
  })

  it('refuses keys that would reach Object.prototype', () => {
    expect(() => parseStripeForm('__proto__[x]=1')).toThrow()
    expect(() => parseStripeForm('a[constructor]=1')).toThrow()
  })
})

describe('the fake Stripe, driven by the real SDK', () => {
  it('creates a subscription-mode Checkout Session and records what it was asked', async () => {
    const { customer, session } = await checkout('user-a')
    expect(session).toMatchObject({
      object: 'checkout.session',
      mode: 'subscription',
      status: 'open',
      payment_status: 'unpaid',
      customer: customer.id,
      client_reference_id: 'user-a',
      metadata: { user_id: 'user-a', tollgate_checkout_id: 'chk-user-a' },
      success_url: 'https://app.example.test/ok',
      cancel_url: 'https://app.example.test/cancel',
      amount_total: 2900,
      url: expect.stringMatching(/^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_/),
    })
    expect(StripeCheckoutSessionObject.safeParse(session).error).toBeUndefined()
    expect(fake.state.checkouts.get(session.id)).toEqual({
      lineItems: [{ price: 'price_pro_monthly', quantity: 1 }],
      subscriptionData: { metadata: { user_id: 'user-a' } },
      discounts: [],
    })
    expect(fake.requestsTo('POST', '/v1/checkout/sessions').at(-1)).toMatchObject({
      idempotencyKey: 'tollgate:checkout:user-a',
      params: { line_items: [{ price: 'price_pro_monthly', quantity: '1' }] },
    })
  })

  it('creates a payment-mode session from price_data and completes it with a PaymentIntent', async () => {
    const metadata = { user_id: 'u-pay', product_id: 'api_calls_pack', quantity: '3' }
    const session = await stripe.checkout.sessions.create({
      mode: 'payment',
      line_items: [
        {
          price_data: { currency: 'usd', unit_amount: 2700, product_data: { name: 'Pack x 3' } },
          quantity: 1,
        },
      ],
      client_reference_id: 'u-pay',
      metadata,
      payment_intent_data: { metadata },
      success_url: 'https://app.example.test/ok',
    })
    expect(session).toMatchObject({
      mode: 'payment',
      status: 'open',
      payment_status: 'unpaid',
      payment_intent: null,
      amount_total: 2700,
      currency: 'usd',
    })
    const from = fake.events.length
    const paid = fake.completePaymentCheckout(session.id)
    expect(paid.session).toMatchObject({
      status: 'complete',
      payment_status: 'paid',
      payment_intent: paid.paymentIntent.id,
    })
    expect(paid.paymentIntent).toMatchObject({
      object: 'payment_intent',
      amount: 2700,
      amount_received: 2700,
      currency: 'usd',
      status: 'succeeded',
      metadata,
    })
    expect(fake.events.slice(from).map((event) => event.type)).toEqual([
      'payment_intent.created',
      'payment_intent.succeeded',
      'checkout.session.completed',
    ])
    const retrieved = await stripe.checkout.sessions.retrieve(session.id)
    expect(StripeCheckoutSessionObject.parse(retrieved)).toMatchObject({ mode: 'payment' })
  })

  it('refuses a recurring price in payment mode and payment_intent_data in subscription mode', async () => {
    const recurring = await failureOf(
      stripe.checkout.sessions.create({
        mode: 'payment',
        line_items: [{ price: 'price_pro_monthly', quantity: 1 }],
      }),
    )
    expect(recurring).toMatchObject({ type: 'StripeInvalidRequestError', statusCode: 400 })
    const misplaced = await failureOf(
      stripe.checkout.sessions.create({
        mode: 'subscription',
        line_items: [{ price: 'price_pro_monthly', quantity: 1 }],
        payment_intent_data: { metadata: { a: 'b' } },
      }),
    )
    expect(misplaced).toMatchObject({ type: 'StripeInvalidRequestError', param: 'payment_intent_data' })
  })

  it('applies a coupon as a discount', async () => {
    await stripe.coupons.create({ id: 'TG_TEST_25', percent_off: 25, duration: 'forever' })
    const { session } = await checkout('user-coupon', { discounts: [{ coupon: 'TG_TEST_25' }] })
    expect(session).toMatchObject({
      amount_subtotal: 2900,
      amount_total: 2175,
      discounts: [{ coupon: 'TG_TEST_25', promotion_code: null }],
    })
    expect(await stripe.coupons.retrieve('TG_TEST_25')).toMatchObject({
      id: 'TG_TEST_25',
      percent_off: 25,
      duration: 'forever',
      valid: true,
    })
  })

  it('refuses an unknown price, customer or coupon as Stripe does (resource_missing)', async () => {
    const price = await failureOf(
      stripe.checkout.sessions.create({
        mode: 'subscription',
        line_items: [{ price: 'price_nope', quantity: 1 }],
      }),
    )
    expect(price).toMatchObject({
      type: 'StripeInvalidRequestError',
      code: 'resource_missing',
      param: 'line_items[0][price]',
    })
    const customer = await failureOf(
      stripe.checkout.sessions.create({
        mode: 'subscription',
        customer: 'cus_nope',
        line_items: [{ price: 'price_pro_monthly', quantity: 1 }],
      }),
    )
    expect(customer).toMatchObject({ code: 'resource_missing', param: 'customer' })
    const coupon = await failureOf(stripe.coupons.retrieve('NOPE'))
    expect(coupon).toMatchObject({
      type: 'StripeInvalidRequestError',
      statusCode: 404,
      code: 'resource_missing',
    })
  })

  it('completes a checkout: paid session, active subscription in the basil shape, paid invoice, events', async () => {
    const { customer, session } = await checkout('user-b')
    const before = fake.events.length
    const done = fake.completeCheckout(session.id)
    expect(done.session).toMatchObject({
      status: 'complete',
      payment_status: 'paid',
      subscription: done.subscription.id,
    })
    const item = done.subscription.items.data[0]
    expect(done.subscription).toMatchObject({
      object: 'subscription',
      status: 'active',
      customer: customer.id,
      metadata: { user_id: 'user-b' },
      billing_cycle_anchor: item.current_period_start,
      latest_invoice: done.invoice.id,
      cancel_at_period_end: false,
    })
    expect(item).toMatchObject({
      price: { id: 'price_pro_monthly', unit_amount: 2900 },
      quantity: 1,
    })
    expect(item.current_period_end).toBeGreaterThan(item.current_period_start)
    expect(done.subscription).not.toHaveProperty('current_period_start')
    expect(StripeSubscriptionObject.safeParse(done.subscription).error).toBeUndefined()
    expect(done.invoice).toMatchObject({
      status: 'paid',
      amount_paid: 2900,
      parent: {
        subscription_details: {
          subscription: done.subscription.id,
          metadata: { user_id: 'user-b' },
        },
      },
    })
    expect(StripeInvoiceObject.safeParse(done.invoice).error).toBeUndefined()
    const emitted = fake.events.slice(before)
    expect(emitted.map((e) => e.type)).toEqual([
      'customer.subscription.created',
      'invoice.finalized',
      'invoice.paid',
      'checkout.session.completed',
    ])
    for (const event of emitted) expect(() => parseStripeEvent(event)).not.toThrow()

    const expanded = await stripe.checkout.sessions.retrieve(session.id, {
      expand: ['subscription'],
    })
    expect(expanded.subscription).toMatchObject({ id: done.subscription.id, status: 'active' })
    expect(await stripe.subscriptions.retrieve(done.subscription.id)).toMatchObject({
      id: done.subscription.id,
    })
  })

  it('changes the plan, cancels at period end, resumes and cancels now, emitting the updates', async () => {
    const { session } = await checkout('user-c')
    const { subscription } = fake.completeCheckout(session.id)
    const itemId = subscription.items.data[0].id
    const changed = await stripe.subscriptions.update(
      subscription.id,
      {
        items: [{ id: itemId, price: 'price_enterprise_monthly' }],
        proration_behavior: 'create_prorations',
      },
      { idempotencyKey: idempotencyKey('change-plan', subscription.id, 'enterprise') },
    )
    expect(changed.items.data.map((i) => [i.id, i.price.id])).toEqual([[
      itemId,
      'price_enterprise_monthly',
    ]])
    expect(fake.events.at(-1)).toMatchObject({
      type: 'customer.subscription.updated',
      data: { previous_attributes: { items: expect.any(Object) } },
    })
    expect(fake.requestsTo('POST', `/v1/subscriptions/${subscription.id}`).at(-1)?.params)
      .toMatchObject({
        proration_behavior: 'create_prorations',
      })

    const cancelling = await stripe.subscriptions.update(subscription.id, {
      cancel_at_period_end: true,
    })
    expect(cancelling).toMatchObject({
      cancel_at_period_end: true,
      cancel_at: subscription.items.data[0].current_period_end,
    })
    const resumed = await stripe.subscriptions.update(subscription.id, {
      cancel_at_period_end: false,
    })
    expect(resumed).toMatchObject({
      cancel_at_period_end: false,
      cancel_at: null,
      canceled_at: null,
    })

    const canceled = await stripe.subscriptions.cancel(subscription.id)
    expect(canceled).toMatchObject({ status: 'canceled', ended_at: expect.any(Number) })
    expect(fake.events.at(-1)).toMatchObject({ type: 'customer.subscription.deleted' })
    const again = await failureOf(
      stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true }),
    )
    expect(again).toMatchObject({ type: 'StripeInvalidRequestError' })
  })

  it('renews, and a failed renewal makes the subscription past_due with an open invoice', async () => {
    const { session } = await checkout('user-d')
    const { subscription } = fake.completeCheckout(session.id)
    const failed = fake.renewSubscription(subscription.id, { paid: false })
    expect(failed.subscription.status).toBe('past_due')
    expect(failed.subscription.items.data[0].current_period_start).toBe(
      subscription.items.data[0].current_period_end,
    )
    expect(failed.invoice).toMatchObject({
      status: 'open',
      billing_reason: 'subscription_cycle',
      amount_paid: 0,
    })
    expect(fake.events.slice(-2).map((e) => e.type)).toEqual([
      'invoice.payment_failed',
      'customer.subscription.updated',
    ])
  })

  it('opens a billing portal session for a customer', async () => {
    const { customer } = await checkout('user-e')
    const portal = await stripe.billingPortal.sessions.create({
      customer: customer.id,
      return_url: 'https://app.example.test/account',
    })
    expect(portal).toMatchObject({
      object: 'billing_portal.session',
      customer: customer.id,
      return_url: 'https://app.example.test/account',
      url: expect.stringMatching(/^https:\/\/billing\.stripe\.com\/p\/session\//),
    })
    expect(await failureOf(stripe.billingPortal.sessions.create({ customer: 'cus_nope' })))
      .toMatchObject({
        code: 'resource_missing',
      })
  })

  it('answers a repeated Idempotency-Key with the first answer, and refuses it for other parameters', async () => {
    const key = idempotencyKey('customer', 'replayed')
    const first = await stripe.customers.create({ email: 'r@example.test' }, {
      idempotencyKey: key,
    })
    const second = await stripe.customers.create({ email: 'r@example.test' }, {
      idempotencyKey: key,
    })
    expect(second.id).toBe(first.id)
    expect(fake.state.requests.filter((r) => r.idempotencyKey === key).map((r) => r.replayed))
      .toEqual([false, true])
    const misuse = await failureOf(
      stripe.customers.create({ email: 'other@example.test' }, { idempotencyKey: key }),
    )
    expect(misuse).toMatchObject({ type: 'StripeIdempotencyError' })
  })

  it('sees an Idempotency-Key on every POST the SDK sends', () => {
    const posts = fake.state.requests.filter((r) => r.method === 'POST')
    expect(posts.length).toBeGreaterThan(5)
    expect(posts.filter((r) => !r.idempotencyKey)).toEqual([])
  })

  it('answers unknown routes and missing keys with Stripe-shaped errors', async () => {
    const unknown = await fetch(`${fake.url}/v1/nothing_here`, {
      headers: { authorization: 'Bearer sk_test_x' },
    })
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toEqual({
      error: {
        type: 'invalid_request_error',
        message: expect.stringMatching(/^Unrecognized request URL \(GET: \/v1\/nothing_here\)/),
      },
    })
    const anonymous = await fetch(`${fake.url}/v1/customers`, { method: 'POST' })
    expect(anonymous.status).toBe(401)
    expect(await anonymous.json()).toMatchObject({ error: { type: 'invalid_request_error' } })
  })

  it('signs deliveries that verifyStripeWebhook accepts', async () => {
    const event = fake.makeEvent('customer.created', { id: 'cus_1', object: 'customer' })
    const delivery = await fake.signedDelivery(event, 'whsec_fake')
    const verified = await verifyStripeWebhook(
      delivery.body,
      delivery.headers['stripe-signature'],
      'whsec_fake',
    )
    expect(verified.id).toBe(event.id)
  })
})
