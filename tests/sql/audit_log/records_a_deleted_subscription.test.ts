import { afterAll, describe, expect, it } from 'vitest'
import { ownerSql, withRollback } from '../../helpers/db.ts'
import { insertSubscription, testUsers } from '../subscriptions/support.ts'
import { auditOf, ownerRole } from './support.ts'

const sql = ownerSql()
const users = testUsers(sql)
afterAll(async () => {
  await users.drop()
  await sql.end()
})

describe('the audit log on delete', () => {
  it('records the plan and status the subscription had', async () => {
    const user = await users.create()
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
