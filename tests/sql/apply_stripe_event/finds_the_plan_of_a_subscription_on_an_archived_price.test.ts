import { afterAll, describe, expect, it } from 'vitest'
import { createUser, ownerSql, withRollback } from '../../helpers/db.ts'
import { makeStripeEvent } from '../../helpers/stripe/events.ts'
import { newWorld, PRO_PRICE, subscriptionFixture } from '../../helpers/stripe/fixtures.ts'
import { applyEvent, subscriptionsOf } from './support.ts'

const sql = ownerSql()
afterAll(() => sql.end())

describe('apply_stripe_event after stripe:sync moved a plan to a new price', () => {
  it('puts a subscription still on the archived price on its plan', async () => {
    await withRollback(sql, async (tx) => {
      await tx`select tollgate_private.record_plan_price('pro', 'price_pro_3900', 3900, 'usd', 'month')`
      const [plan] = await tx<{ stripe_price_id: string }[]>`
        select stripe_price_id from tollgate.plans where id = 'pro'`
      expect(plan?.stripe_price_id).toBe('price_pro_3900')

      const world = newWorld((await createUser(tx)).id)
      const result = await applyEvent(
        tx,
        makeStripeEvent(
          'customer.subscription.created',
          subscriptionFixture(world, { price: PRO_PRICE }),
        ),
      )
      expect(result).toMatchObject({ outcome: 'applied', user_id: world.userId })
      expect((await subscriptionsOf(tx, world.userId)).map((s) => s.plan_id)).toEqual(['pro'])
    })
  })

  it('puts a subscription on the new price on the same plan', async () => {
    await withRollback(sql, async (tx) => {
      await tx`select tollgate_private.record_plan_price('pro', 'price_pro_3900', 3900, 'usd', 'month')`
      const world = newWorld((await createUser(tx)).id)
      await applyEvent(
        tx,
        makeStripeEvent(
          'customer.subscription.created',
          subscriptionFixture(world, { price: 'price_pro_3900' }),
        ),
      )
      expect((await subscriptionsOf(tx, world.userId)).map((s) => s.plan_id)).toEqual(['pro'])
    })
  })

  it('leaves a subscription on a price no plan ever had unlinked', async () => {
    await withRollback(sql, async (tx) => {
      const world = newWorld((await createUser(tx)).id)
      const result = await applyEvent(
        tx,
        makeStripeEvent(
          'customer.subscription.created',
          subscriptionFixture(world, { price: 'price_unknown' }),
        ),
      )
      expect(result).toMatchObject({ outcome: 'unlinked' })
    })
  })
})
