import { afterAll, describe, expect, it } from 'vitest'
import { createUser, ownerSql, withRollback } from '../../helpers/db.ts'
import { makeStripeEvent } from '../../helpers/stripe/events.ts'
import { MONTH, newWorld, nowSeconds, subscriptionFixture } from '../../helpers/stripe/fixtures.ts'
import { applyEvent, subscriptionsOf } from './support.ts'

const sql = ownerSql()
afterAll(() => sql.end())

const T = nowSeconds() - 3600

describe('apply_stripe_event reads a subscription period in either API shape', () => {
  it('basil and later: from the first item', async () => {
    await withRollback(sql, async (tx) => {
      const world = newWorld((await createUser(tx)).id)
      const subscription = subscriptionFixture(world, { periodStart: T, periodEnd: T + MONTH })
      // A leftover top-level period must not win over the item's.
      subscription.current_period_start = T - 5 * MONTH
      subscription.current_period_end = T - 4 * MONTH
      await applyEvent(tx, makeStripeEvent('customer.subscription.created', subscription))
      expect(await subscriptionsOf(tx, world.userId)).toEqual([
        expect.objectContaining({ current_period_start: T, current_period_end: T + MONTH }),
      ])
    })
  })

  it('before basil: from the subscription itself', async () => {
    await withRollback(sql, async (tx) => {
      const world = newWorld((await createUser(tx)).id)
      const subscription = subscriptionFixture(world)
      delete subscription.items.data[0].current_period_start
      delete subscription.items.data[0].current_period_end
      subscription.current_period_start = T
      subscription.current_period_end = T + MONTH
      await applyEvent(
        tx,
        makeStripeEvent('customer.subscription.created', subscription, {
          apiVersion: '2020-03-02',
        }),
      )
      expect(await subscriptionsOf(tx, world.userId)).toEqual([
        expect.objectContaining({ current_period_start: T, current_period_end: T + MONTH }),
      ])
    })
  })
})
