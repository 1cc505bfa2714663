import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback } from '../../helpers/db.ts'
import { insertSubscription, setStatus } from '../subscriptions/support.ts'
import { auditOf, ownerRole } from './support.ts'

describe('the audit log on update', () => {
  it('records a status change with the old and new values', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const sub = await insertSubscription(tx, user.id, { planId: 'pro' })
      await setStatus(tx, sub.id, 'past_due')
      const rows = await auditOf(tx, sub.id)
      expect(rows.map((r) => r.action)).toEqual(['insert', 'update'])
      expect(rows[1]).toEqual({
        table_name: 'subscriptions',
        record_id: sub.id,
        user_id: user.id,
        action: 'update',
        old_values: { plan_id: 'pro', status: 'active' },
        new_values: { plan_id: 'pro', status: 'past_due' },
        actor_user_id: null,
        actor_role: await ownerRole(tx),
        reason: null,
      })
    })
  })

  it('records a plan change with the old and new values', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const sub = await insertSubscription(tx, user.id, { planId: 'pro' })
      await tx`update tollgate.subscriptions set plan_id = 'enterprise' where id = ${sub.id}::uuid`
      const rows = await auditOf(tx, sub.id)
      expect(rows.map((r) => r.action)).toEqual(['insert', 'update'])
      expect(rows[1]).toMatchObject({
        action: 'update',
        old_values: { plan_id: 'pro', status: 'active' },
        new_values: { plan_id: 'enterprise', status: 'active' },
      })
    })
  })

  it('records one row for a change of both plan and status', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const sub = await insertSubscription(tx, user.id, { planId: 'pro', status: 'trialing' })
      await tx`
        update tollgate.subscriptions set plan_id = 'enterprise', status = 'active'
        where id = ${sub.id}::uuid`
      const rows = await auditOf(tx, sub.id)
      expect(rows.map((r) => [r.action, r.old_values, r.new_values])).toEqual([
        ['insert', null, { plan_id: 'pro', status: 'trialing' }],
        [
          'update',
          { plan_id: 'pro', status: 'trialing' },
          { plan_id: 'enterprise', status: 'active' },
        ],
      ])
    })
  })
})
