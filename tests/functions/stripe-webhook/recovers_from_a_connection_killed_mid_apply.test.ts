import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeStripeEvent, signedDelivery } from '../../helpers/stripe/events.ts'
import { checkoutSessionFixture } from '../../helpers/stripe/fixtures.ts'
import { holdUserLock, waitForLockWaiters } from '../../helpers/stripe/locks.ts'
import {
  answer,
  auditOf,
  customerOf,
  ledgerOf,
  subscriptionsOf,
  WEBHOOK_SECRET,
  type WebhookHarness,
  userWithSubscriptionAtStripe,
  webhookHarness,
} from '../../helpers/stripe/webhook.ts'

let h: WebhookHarness
beforeAll(async () => {
  h = await webhookHarness()
})
afterAll(() => h.close())

describe('a database connection killed in the middle of applying an event', () => {
  it('leaves no partial state, answers 500, and the retry applies the event once', async () => {
    const world = await userWithSubscriptionAtStripe(h)
    const event = makeStripeEvent('checkout.session.completed', checkoutSessionFixture(world))
    const delivery = await signedDelivery(event, WEBHOOK_SECRET)

    // The apply records the event and links the customer, then stops at the user lock we hold.
    const lock = await holdUserLock(h.sql, world.userId)
    let response: Promise<{ status: number; body: unknown }>
    try {
      response = h.post(delivery).then(answer)
      const [applying] = await waitForLockWaiters(h.sql, h.applicationName, lock.pid, 1)
      expect(applying).toMatchObject({ wait_event: 'advisory', blocked_by_holder: true })
      expect(applying?.query).toContain('tollgate_private.apply_stripe_event(')
      const [killed] = await h.sql<{ terminated: boolean }[]>`
        select pg_catalog.pg_terminate_backend(${applying?.pid ?? -1}::int) as terminated`
      expect(killed).toEqual({ terminated: true })
    } finally {
      await lock.release()
    }

    const failed = await response
    expect(failed.status).toBe(500)
    expect(failed.body).toEqual({
      code: expect.stringMatching(/^(57P01|INTRN)$/),
      message: 'Internal error',
      details: null,
      hint: null,
    })
    // Nothing of the apply survived; only the failure note written afterwards.
    expect(await ledgerOf(h.sql, [event.id])).toEqual([
      expect.objectContaining({
        processed: false,
        outcome: null,
        error: expect.any(String),
        attempts: 1,
      }),
    ])
    expect(await customerOf(h.sql, world.userId)).toBeNull()
    expect(await subscriptionsOf(h.sql, world.userId)).toEqual([])
    expect(await auditOf(h.sql, world.userId)).toEqual([])

    // Stripe's retry.
    expect(await answer(await h.post(delivery))).toEqual({ status: 200, body: { received: true } })
    expect(await ledgerOf(h.sql, [event.id])).toEqual([
      expect.objectContaining({ processed: true, outcome: 'applied', error: null, attempts: 2 }),
    ])
    expect(await customerOf(h.sql, world.userId)).toBe(world.customerId)
    expect((await subscriptionsOf(h.sql, world.userId)).map((s) => [s.plan_id, s.status])).toEqual([
      ['pro', 'active'],
    ])
    expect(await auditOf(h.sql, world.userId)).toEqual([
      expect.objectContaining({ action: 'insert', reason: `stripe:${event.id}` }),
    ])
  })
})
