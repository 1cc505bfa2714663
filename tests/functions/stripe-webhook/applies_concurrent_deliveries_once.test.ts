import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUser } from '../../helpers/db.ts'
import { makeStripeEvent, signedDelivery } from '../../helpers/stripe/events.ts'
import { newWorld, subscriptionFixture } from '../../helpers/stripe/fixtures.ts'
import { holdUserLock, waitForLockWaiters } from '../../helpers/stripe/locks.ts'
import {
  answer,
  auditOf,
  ledgerOf,
  subscriptionsOf,
  WEBHOOK_SECRET,
  type WebhookHarness,
  webhookHarness,
} from '../../helpers/stripe/webhook.ts'

let h: WebhookHarness
beforeAll(async () => {
  h = await webhookHarness()
})
afterAll(() => h.close())

describe('the same event delivered by two requests at the same moment', () => {
  it('is applied once: the second waits for the first, then finds it processed', async () => {
    const world = newWorld((await createUser(h.sql)).id)
    const event = makeStripeEvent('customer.subscription.created', subscriptionFixture(world))
    const delivery = await signedDelivery(event, WEBHOOK_SECRET)

    // Step 1: hold the user's lock, so the first apply stops inside its transaction.
    const lock = await holdUserLock(h.sql, world.userId)
    let answers: Promise<{ status: number; body: unknown }[]>
    try {
      answers = Promise.all([h.post(delivery), h.post(delivery)].map(async (r) => answer(await r)))
      // Step 2: one request has recorded the event and waits for the user lock; the other waits
      // on the first one's uncommitted ledger row.
      const waiters = await waitForLockWaiters(h.sql, h.applicationName, lock.pid, 2)
      expect(waiters.map((w) => [w.wait_event, w.blocked_by_holder]).sort()).toEqual([
        ['advisory', true],
        ['transactionid', false],
      ])
      expect(waiters.every((w) => w.query.includes('apply_stripe_event'))).toBe(true)
    } finally {
      // Step 3: let the first one finish.
      await lock.release()
    }

    expect(await answers).toEqual([
      { status: 200, body: { received: true } },
      { status: 200, body: { received: true } },
    ])
    expect(await ledgerOf(h.sql, [event.id])).toEqual([
      expect.objectContaining({ outcome: 'applied', attempts: 2, processed: true, error: null }),
    ])
    expect((await subscriptionsOf(h.sql, world.userId)).map((s) => s.status)).toEqual(['active'])
    expect(await auditOf(h.sql, world.userId)).toEqual([
      expect.objectContaining({ action: 'insert', reason: `stripe:${event.id}` }),
    ])
  })

  it('is applied once when many copies race without any interleaving forced', async () => {
    const world = newWorld((await createUser(h.sql)).id)
    const event = makeStripeEvent('customer.subscription.created', subscriptionFixture(world))
    const delivery = await signedDelivery(event, WEBHOOK_SECRET)
    const answers = await Promise.all(
      Array.from({ length: 6 }, async () => answer(await h.post(delivery))),
    )
    expect(answers).toEqual(Array(6).fill({ status: 200, body: { received: true } }))
    expect(await ledgerOf(h.sql, [event.id])).toEqual([
      expect.objectContaining({ outcome: 'applied', attempts: 6, processed: true }),
    ])
    expect(await subscriptionsOf(h.sql, world.userId)).toHaveLength(1)
    expect(await auditOf(h.sql, world.userId)).toHaveLength(1)
  })
})
