import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUser } from '../../helpers/db.ts'
import { makeStripeEvent } from '../../helpers/stripe/events.ts'
import {
  ENTERPRISE_PRICE,
  MONTH,
  newWorld,
  nowSeconds,
  type StripeWorld,
  subscriptionFixture,
  type SubscriptionOptions,
} from '../../helpers/stripe/fixtures.ts'
import {
  answer,
  auditOf,
  customerOf,
  ledgerOf,
  subscriptionsOf,
  type WebhookHarness,
  webhookHarness,
} from '../../helpers/stripe/webhook.ts'

let h: WebhookHarness
beforeAll(async () => {
  h = await webhookHarness()
})
afterAll(() => h.close())

// An hour ago, so the period has started.
const T = nowSeconds() - 3600

const setup = async (): Promise<StripeWorld> => newWorld((await createUser(h.sql)).id)

const deliverSubscription = async (
  world: StripeWorld,
  type: string,
  created: number,
  options: SubscriptionOptions = {},
  previousAttributes?: Record<string, unknown>,
) => {
  const event = makeStripeEvent(
    type,
    subscriptionFixture(world, { periodStart: T, created: T, ...options }),
    { created, ...(previousAttributes ? { previousAttributes } : {}) },
  )
  const response = await answer(await h.deliver(event))
  expect(response).toEqual({ status: 200, body: { received: true } })
  return event
}

const base = {
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

describe('customer.subscription.* events', () => {
  it('created: records the subscription with its plan, status and item period, and links the customer', async () => {
    const world = await setup()
    const event = await deliverSubscription(world, 'customer.subscription.created', T)
    expect(await subscriptionsOf(h.sql, world.userId)).toEqual([{
      id: expect.any(String),
      ...base,
    }])
    expect(await customerOf(h.sql, world.userId)).toBe(world.customerId)
    expect(await ledgerOf(h.sql, [event.id])).toEqual([
      expect.objectContaining({ outcome: 'applied', attempts: 1, processed: true, error: null }),
    ])
    expect(await auditOf(h.sql, world.userId)).toEqual([
      {
        action: 'insert',
        old_values: null,
        new_values: { plan_id: 'pro', status: 'active' },
        reason: `stripe:${event.id}`,
      },
    ])
  })

  it('updated: applies cancel_at_period_end and a plan change', async () => {
    const world = await setup()
    await deliverSubscription(world, 'customer.subscription.created', T)
    await deliverSubscription(
      world,
      'customer.subscription.updated',
      T + 100,
      { cancelAtPeriodEnd: true, canceledAt: T + 100, price: ENTERPRISE_PRICE },
      { cancel_at_period_end: false, cancel_at: null, canceled_at: null },
    )
    expect(await subscriptionsOf(h.sql, world.userId)).toEqual([
      {
        id: expect.any(String),
        ...base,
        plan_id: 'enterprise',
        cancel_at_period_end: true,
        canceled_at: T + 100,
      },
    ])
  })

  it('updated: a renewal moves the period to the new item period', async () => {
    const world = await setup()
    await deliverSubscription(world, 'customer.subscription.created', T)
    await deliverSubscription(world, 'customer.subscription.updated', T + 200, {
      periodStart: T + MONTH,
      periodEnd: T + 2 * MONTH,
    })
    expect(await subscriptionsOf(h.sql, world.userId)).toEqual([
      {
        id: expect.any(String),
        ...base,
        current_period_start: T + MONTH,
        current_period_end: T + 2 * MONTH,
      },
    ])
  })

  it('deleted: ends the subscription (canceled, ended_at)', async () => {
    const world = await setup()
    await deliverSubscription(world, 'customer.subscription.created', T)
    const deleted = await deliverSubscription(world, 'customer.subscription.deleted', T + 300, {
      status: 'canceled',
      canceledAt: T + 300,
      endedAt: T + 300,
    })
    expect(await subscriptionsOf(h.sql, world.userId)).toEqual([
      {
        id: expect.any(String),
        ...base,
        status: 'canceled',
        canceled_at: T + 300,
        ended_at: T + 300,
      },
    ])
    expect((await auditOf(h.sql, world.userId)).at(-1)).toEqual({
      action: 'update',
      old_values: { plan_id: 'pro', status: 'active' },
      new_values: { plan_id: 'pro', status: 'canceled' },
      reason: `stripe:${deleted.id}`,
    })
  })

  it('paused and resumed: the status follows', async () => {
    const world = await setup()
    await deliverSubscription(world, 'customer.subscription.created', T)
    await deliverSubscription(world, 'customer.subscription.paused', T + 10, { status: 'paused' })
    expect((await subscriptionsOf(h.sql, world.userId)).map((s) => s.status)).toEqual(['paused'])
    await deliverSubscription(world, 'customer.subscription.resumed', T + 20, { status: 'active' })
    expect(await subscriptionsOf(h.sql, world.userId)).toEqual([{
      id: expect.any(String),
      ...base,
    }])
    expect((await auditOf(h.sql, world.userId)).map((a) => a.new_values)).toEqual([
      { plan_id: 'pro', status: 'active' },
      { plan_id: 'pro', status: 'paused' },
      { plan_id: 'pro', status: 'active' },
    ])
  })

  it('trial_will_end: keeps the trialing subscription and its trial end', async () => {
    const world = await setup()
    const trialEnd = T + 3 * 24 * 3600
    const trial = { status: 'trialing', trialEnd, periodEnd: trialEnd }
    await deliverSubscription(world, 'customer.subscription.created', T, trial)
    const event = await deliverSubscription(
      world,
      'customer.subscription.trial_will_end',
      T + 50,
      trial,
    )
    expect(await subscriptionsOf(h.sql, world.userId)).toEqual([
      {
        id: expect.any(String),
        ...base,
        status: 'trialing',
        current_period_end: trialEnd,
        trial_end: trialEnd,
      },
    ])
    expect(await ledgerOf(h.sql, [event.id])).toEqual([
      expect.objectContaining({ outcome: 'applied' }),
    ])
  })
})
