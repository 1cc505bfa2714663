import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback } from '../../helpers/db.ts'
import { insertSubscription } from '../subscriptions/support.ts'
import { auditOf } from './support.ts'

describe('the audit log on an update that keeps plan and status', () => {
  it('writes nothing for cancel_at_period_end, canceled_at or a renewed period', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const sub = await insertSubscription(tx, user.id, { planId: 'pro' })
      await tx`
        update tollgate.subscriptions set cancel_at_period_end = true, canceled_at = now()
        where id = ${sub.id}::uuid`
      await tx`
        update tollgate.subscriptions
        set current_period_start = current_period_end,
            current_period_end = current_period_end + interval '1 month'
        where id = ${sub.id}::uuid`
      await tx`
        update tollgate.subscriptions set plan_id = 'pro', status = 'active'
        where id = ${sub.id}::uuid`
      const rows = await auditOf(tx, sub.id)
      expect(rows.map((r) => r.action)).toEqual(['insert'])
    })
  })
})
