import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback } from '../../helpers/db.ts'
import { insertSubscription } from '../subscriptions/support.ts'
import { auditOf, ownerRole } from './support.ts'

describe('the audit log on insert', () => {
  it('records the new plan and status, and the role that wrote it', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const sub = await insertSubscription(tx, user.id, { planId: 'pro', status: 'trialing' })
      expect(await auditOf(tx, sub.id)).toEqual([
        {
          table_name: 'subscriptions',
          record_id: sub.id,
          user_id: user.id,
          action: 'insert',
          old_values: null,
          new_values: { plan_id: 'pro', status: 'trialing' },
          actor_user_id: null,
          actor_role: await ownerRole(tx),
          reason: null,
        },
      ])
    })
  })
})
