import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeStripeEvent, type StripeJson } from '../../helpers/stripe/events.ts'
import {
  checkoutSessionFixture,
  MONTH,
  nowSeconds,
  type StripeWorld,
} from '../../helpers/stripe/fixtures.ts'
import {
  answer,
  customerOf,
  ledgerOf,
  subscriptionsOf,
  type WebhookHarness,
  userWithSubscriptionAtStripe,
  webhookHarness,
} from '../../helpers/stripe/webhook.ts'

let h: WebhookHarness
beforeAll(async () => {
  h = await webhookHarness()
})
afterAll(() => h.close())

const T = nowSeconds() - 600

/** A user, and at the fake Stripe the active subscription their checkout created. */
const setup = (): Promise<StripeWorld> => userWithSubscriptionAtStripe(h, { periodStart: T })

const deliver = async (type: string, session: StripeJson, created: number): Promise<StripeJson> => {
  const event = makeStripeEvent(type, session, { created })
  expect(await answer(await h.deliver(event))).toEqual({ status: 200, body: { received: true } })
  return event
}

const fetchesOf = (world: StripeWorld) =>
  h.fake.requestsTo('GET', `/v1/subscriptions/${world.subscriptionId}`)

const activePro = {
  id: expect.any(String),
  plan_id: 'pro',
  status: 'active',
  provider: 'stripe',
  current_period_start: T,
  current_period_end: T + MONTH,
  billing_cycle_anchor: T,
  cancel_at_period_end: false,
  canceled_at: null,
  ended_at: null,
  trial_end: null,
}

/** A coupon of this test only (the seed's must not change), reserved by a checkout of the user. */
const reservedCoupon = async (
  world: StripeWorld,
): Promise<{ code: string; checkoutId: string }> => {
  const code = `TGWH${randomUUID().replaceAll('-', '').slice(0, 12).toUpperCase()}`
  await h.sql`
    insert into tollgate_private.coupons (code, percent_off, max_uses, plan_ids)
    values (${code}, 25, 10, array['pro'])`
  const [prepared] = await h.sql<{ result: { checkout_id: string } }[]>`
    select tollgate_private.prepare_checkout(${world.userId}::uuid, 'pro', 'stripe', ${code}, now()) as result`
  return { code, checkoutId: prepared?.result.checkout_id ?? 'missing' }
}

const couponState = async (code: string) => {
  const [row] = await h.sql<{ times_redeemed: number; status: string }[]>`
    select c.times_redeemed, r.status
    from tollgate_private.coupons c join tollgate_private.coupon_redemptions r on r.coupon_code = c.code
    where c.code = ${code}`
  return row
}

describe('checkout.session.* events', () => {
  it('completed and paid: fetches the subscription from Stripe and applies it, linking the customer', async () => {
    const world = await setup()
    const event = await deliver('checkout.session.completed', checkoutSessionFixture(world), T)
    expect(await subscriptionsOf(h.sql, world.userId)).toEqual([activePro])
    expect(await customerOf(h.sql, world.userId)).toBe(world.customerId)
    expect(fetchesOf(world)).toEqual([
      expect.objectContaining({ status: 200, stripeVersion: '2026-10-28.endive' }),
    ])
    expect(await ledgerOf(h.sql, [event.id])).toEqual([
      expect.objectContaining({
        type: 'checkout.session.completed',
        outcome: 'applied',
        processed: true,
      }),
    ])
  })

  it('completed but not paid yet: recorded as ignored, nothing fetched or applied', async () => {
    const world = await setup()
    const event = await deliver(
      'checkout.session.completed',
      checkoutSessionFixture(world, { paymentStatus: 'unpaid' }),
      T,
    )
    expect(await subscriptionsOf(h.sql, world.userId)).toEqual([])
    expect(fetchesOf(world)).toEqual([])
    expect(await ledgerOf(h.sql, [event.id])).toEqual([
      expect.objectContaining({ outcome: 'ignored', error: 'not paid yet' }),
    ])
  })

  it('async_payment_succeeded after an unpaid completion: applies the subscription', async () => {
    const world = await setup()
    await deliver(
      'checkout.session.completed',
      checkoutSessionFixture(world, { paymentStatus: 'unpaid' }),
      T,
    )
    const event = await deliver(
      'checkout.session.async_payment_succeeded',
      checkoutSessionFixture(world),
      T + 60,
    )
    expect(await subscriptionsOf(h.sql, world.userId)).toEqual([activePro])
    expect(await ledgerOf(h.sql, [event.id])).toEqual([
      expect.objectContaining({ outcome: 'applied' }),
    ])
  })

  it('completed and paid: redeems the coupon the checkout reserved', async () => {
    const world = await setup()
    const { code, checkoutId } = await reservedCoupon(world)
    expect(await couponState(code)).toEqual({ times_redeemed: 1, status: 'reserved' })
    await deliver(
      'checkout.session.completed',
      checkoutSessionFixture(world, {
        metadata: { user_id: world.userId, tollgate_checkout_id: checkoutId },
      }),
      T,
    )
    expect(await couponState(code)).toEqual({ times_redeemed: 1, status: 'redeemed' })
  })

  it.each(['checkout.session.async_payment_failed', 'checkout.session.expired'])(
    '%s: gives the reserved coupon use back and creates nothing',
    async (type) => {
      const world = await setup()
      const { code, checkoutId } = await reservedCoupon(world)
      const session = checkoutSessionFixture(world, {
        paymentStatus: 'unpaid',
        status: type.endsWith('expired') ? 'expired' : 'complete',
        metadata: { user_id: world.userId, tollgate_checkout_id: checkoutId },
      })
      const event = await deliver(type, session, T)
      expect(await couponState(code)).toEqual({ times_redeemed: 0, status: 'released' })
      expect(await subscriptionsOf(h.sql, world.userId)).toEqual([])
      expect(fetchesOf(world)).toEqual([])
      expect(await ledgerOf(h.sql, [event.id])).toEqual([
        expect.objectContaining({ outcome: 'applied' }),
      ])
    },
  )
})
