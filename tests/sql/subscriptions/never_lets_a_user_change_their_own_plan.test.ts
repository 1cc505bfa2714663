import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { pgError, withRollback } from '../../helpers/db.ts'
import { actAs, insertSubscription, type SubscriptionRow } from './support.ts'

describe('a signed-in user and their own subscription', () => {
  it('cannot update its plan or status (42501)', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const sub = await insertSubscription(tx, user.id, { planId: 'pro' })
      await actAs(tx, user.claims)
      const plan = await pgError(
        tx.savepoint(
          (sp) =>
            sp`update tollgate.subscriptions set plan_id = 'enterprise' where id = ${sub.id}::uuid`,
        ),
      )
      expect(plan.code).toBe('42501')
      const status = await pgError(
        tx.savepoint(
          (sp) =>
            sp`update tollgate.subscriptions set status = 'active' where id = ${sub.id}::uuid`,
        ),
      )
      expect(status.code).toBe('42501')

      // Still reads its own row, unchanged.
      const rows = await tx<Pick<SubscriptionRow, 'id' | 'plan_id' | 'status'>[]>`
        select id, plan_id, status from tollgate.subscriptions`
      expect(rows).toEqual([{ id: sub.id, plan_id: 'pro', status: 'active' }])
    })
  })

  it('cannot insert a subscription for itself (42501)', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      await actAs(tx, user.claims)
      const error = await pgError(
        tx.savepoint(
          (sp) => sp`
            insert into tollgate.subscriptions (user_id, plan_id, status, provider)
            values (${user.id}::uuid, 'enterprise', 'active', 'stripe')`,
        ),
      )
      expect(error.code).toBe('42501')
      const rows = await tx`select id from tollgate.subscriptions`
      expect(rows).toEqual([])
    })
  })

  it('cannot delete its subscription to reset its plan (42501)', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const sub = await insertSubscription(tx, user.id, { planId: 'pro', status: 'unpaid' })
      await actAs(tx, user.claims)
      const error = await pgError(
        tx.savepoint((sp) => sp`delete from tollgate.subscriptions where id = ${sub.id}::uuid`),
      )
      expect(error.code).toBe('42501')
      const rows = await tx`select id from tollgate.subscriptions`
      expect(rows).toEqual([{ id: sub.id }])
    })
  })
})

describe('a signed-in user and the maintenance that changes statuses', () => {
  it('cannot run run_maintenance at a time of their choosing (42501)', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const sub = await insertSubscription(tx, user.id, { planId: 'pro', cancelAtPeriodEnd: true })
      await actAs(tx, user.claims)
      const error = await pgError(
        tx.savepoint(
          (sp) => sp`select tollgate_private.run_maintenance(now() + interval '2 months')`,
        ),
      )
      expect(error.code).toBe('42501')
      const rows = await tx<Pick<SubscriptionRow, 'id' | 'status'>[]>`
        select id, status from tollgate.subscriptions`
      expect(rows).toEqual([{ id: sub.id, status: 'active' }])
    })
  })
})
