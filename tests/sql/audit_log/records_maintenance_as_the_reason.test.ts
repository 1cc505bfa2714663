import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback } from '../../helpers/db.ts'
import { insertSubscription, periodEndPlus } from '../subscriptions/support.ts'
import { auditOf, ownerRole } from './support.ts'

describe('the audit log of run_maintenance', () => {
  it('records the subscriptions it ends with reason maintenance', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const sub = await insertSubscription(tx, user.id, { planId: 'pro', cancelAtPeriodEnd: true })
      const asOf = await periodEndPlus(tx, sub.id, '1 second')
      await tx`select tollgate_private.run_maintenance(${asOf}::text::timestamptz)`
      const rows = await auditOf(tx, sub.id)
      expect(rows).toHaveLength(2)
      expect(rows[1]).toEqual({
        table_name: 'subscriptions',
        record_id: sub.id,
        user_id: user.id,
        action: 'update',
        old_values: { plan_id: 'pro', status: 'active' },
        new_values: { plan_id: 'pro', status: 'canceled' },
        actor_user_id: null,
        actor_role: await ownerRole(tx),
        reason: 'maintenance',
      })
    })
  })

  it('records both steps of a razorpay subscription that lapses and expires', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const sub = await insertSubscription(tx, user.id, { planId: 'pro', provider: 'razorpay' })
      const asOf = await periodEndPlus(tx, sub.id, '3 days')
      await tx`select tollgate_private.run_maintenance(${asOf}::text::timestamptz)`
      const rows = await auditOf(tx, sub.id)
      expect(
        rows.map((r) => [r.action, r.old_values?.status, r.new_values?.status, r.reason]),
      ).toEqual([
        ['insert', undefined, 'active', null],
        ['update', 'active', 'past_due', 'maintenance'],
        ['update', 'past_due', 'canceled', 'maintenance'],
      ])
    })
  })
})
