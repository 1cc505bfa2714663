import { afterAll, describe, expect, it } from 'vitest'
import { createUser, ownerSql, withRollback, type Tx } from '../../helpers/db.ts'
import { makeStripeEvent } from '../../helpers/stripe/events.ts'
import {
  ENTERPRISE_PRICE,
  newWorld,
  nowSeconds,
  subscriptionFixture,
  type StripeWorld,
} from '../../helpers/stripe/fixtures.ts'
import { applyEvent, subscriptionsOf } from './support.ts'

const sql = ownerSql()
afterAll(() => sql.end())

const T = nowSeconds() - 3600

const actionsOf = (tx: Tx, userId: string) =>
  tx<{ action: string; provider_object_id: string; reason: string; state: string }[]>`
    select action, provider_object_id, reason, state from tollgate_private.provider_actions
    where user_id = ${userId} order by created_at, provider_object_id`

const supersededAuditOf = (tx: Tx, userId: string) =>
  tx<{ old_values: { status: string } | null; new_values: { status: string }; reason: string }[]>`
    select old_values, new_values, reason from tollgate_private.audit_log
    where user_id = ${userId} and reason like '%superseded by%' order by id`

const created = (world: StripeWorld, at: number, price?: string) =>
  makeStripeEvent(
    'customer.subscription.created',
    subscriptionFixture(world, { periodStart: at, ...(price ? { price } : {}) }),
    { created: at },
  )

const updated = (world: StripeWorld, createdAt: number, at: number, price?: string) =>
  makeStripeEvent(
    'customer.subscription.updated',
    subscriptionFixture(world, { periodStart: createdAt, ...(price ? { price } : {}) }),
    { created: at },
  )

// Review M-2: two checkouts paid (pro, then enterprise): the older subscription was canceled only
// here while Stripe billed both, and its next event made it live again and canceled the newer.
describe('a user’s second Stripe subscription going live', () => {
  it('cancels the older one here (audited: superseded) and queues its cancellation at Stripe', async () => {
    await withRollback(sql, async (tx) => {
      const userId = (await createUser(tx)).id
      const pro = newWorld(userId)
      const enterprise = { ...newWorld(userId), customerId: pro.customerId }
      await applyEvent(tx, created(pro, T))
      await applyEvent(tx, created(enterprise, T + 60, ENTERPRISE_PRICE))

      expect((await subscriptionsOf(tx, userId)).map((s) => [s.plan_id, s.status])).toEqual([
        ['pro', 'canceled'],
        ['enterprise', 'active'],
      ])
      expect(await actionsOf(tx, userId)).toEqual([
        {
          action: 'cancel_subscription',
          provider_object_id: pro.subscriptionId,
          reason: `superseded by ${enterprise.subscriptionId}`,
          state: 'pending',
        },
      ])
      expect(await supersededAuditOf(tx, userId)).toMatchObject([
        { old_values: { status: 'active' }, new_values: { status: 'canceled' } },
      ])

      // Stripe still says active until the outbox cancels it: the plan does not flip back.
      await applyEvent(tx, updated(pro, T, T + 120))
      await applyEvent(tx, updated(enterprise, T + 60, T + 130, ENTERPRISE_PRICE))
      await applyEvent(tx, updated(pro, T, T + 140))
      expect((await subscriptionsOf(tx, userId)).map((s) => [s.plan_id, s.status])).toEqual([
        ['pro', 'canceled'],
        ['enterprise', 'active'],
      ])
      expect(await actionsOf(tx, userId)).toHaveLength(1)
    })
  })

  it('keeps the newer one live when the older one’s first event arrives last', async () => {
    await withRollback(sql, async (tx) => {
      const userId = (await createUser(tx)).id
      const pro = newWorld(userId)
      const enterprise = { ...newWorld(userId), customerId: pro.customerId }
      // Created at Stripe in this order, delivered the other way round.
      await applyEvent(tx, created(enterprise, T + 60, ENTERPRISE_PRICE))
      await applyEvent(tx, created(pro, T))

      expect((await subscriptionsOf(tx, userId)).map((s) => [s.plan_id, s.status])).toEqual([
        ['pro', 'canceled'],
        ['enterprise', 'active'],
      ])
      expect(await actionsOf(tx, userId)).toMatchObject([
        { provider_object_id: pro.subscriptionId, state: 'pending' },
      ])
      expect(await supersededAuditOf(tx, userId)).toMatchObject([
        { old_values: null, new_values: { status: 'canceled' } },
      ])
    })
  })
})
