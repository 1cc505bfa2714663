import { afterAll, describe, expect, it } from 'vitest'
import { createUser, ownerSql, withRollback } from '../../helpers/db.ts'
import { makeStripeEvent } from '../../helpers/stripe/events.ts'
import {
  ENTERPRISE_PRICE,
  newWorld,
  nowSeconds,
  subscriptionFixture,
} from '../../helpers/stripe/fixtures.ts'
import { applyEvent, subscriptionsOf } from './support.ts'

const sql = ownerSql()
afterAll(() => sql.end())

const T = nowSeconds() - 3600

describe('apply_stripe_event keeps one live subscription per user', () => {
  it('cancels the user’s other live subscription when a new one goes live', async () => {
    await withRollback(sql, async (tx) => {
      const userId = (await createUser(tx)).id
      const first = newWorld(userId)
      const second = { ...newWorld(userId), customerId: first.customerId }
      await applyEvent(
        tx,
        makeStripeEvent(
          'customer.subscription.created',
          subscriptionFixture(first, { periodStart: T }),
          {
            created: T,
          },
        ),
      )
      await applyEvent(
        tx,
        makeStripeEvent(
          'customer.subscription.created',
          subscriptionFixture(second, { periodStart: T + 60, price: ENTERPRISE_PRICE }),
          { created: T + 60 },
        ),
      )
      expect((await subscriptionsOf(tx, userId)).map((s) => [s.plan_id, s.status])).toEqual([
        ['pro', 'canceled'],
        ['enterprise', 'active'],
      ])
    })
  })
})
