import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback } from '../../helpers/db.ts'
import { insertSubscription } from '../subscriptions/support.ts'
import { auditOf, ownerRole } from './support.ts'

describe('the audit log on delete', () => {
  it('records the plan and status the subscription had', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const sub = await insertSubscription(tx, user.id, { planId: 'pro', status: 'canceled' })
      await tx`delete from tollgate.subscriptions where id = ${sub.id}::uuid`
      const rows = await auditOf(tx, sub.id)
      expect(rows.map((r) => r.action)).toEqual(['insert', 'delete'])
      expect(rows[1]).toEqual({
        table_name: 'subscriptions',
        record_id: sub.id,
        user_id: user.id,
        action: 'delete',
        old_values: { plan_id: 'pro', status: 'canceled' },
        new_values: null,
        actor_user_id: null,
        actor_role: await ownerRole(tx),
        reason: null,
      })
    })
  })
})
