import { randomUUID } from 'node:crypto'
import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asServiceRole, withRollback } from '../../helpers/db.ts'
import { consumeAt } from './support.ts'

const FEB = '2024-02-10T12:00:00Z'

describe('consume_usage for a user who does not exist', () => {
  it('refuses a random user id through the private function (NOUSR)', async ({ sql }) => {
    const ghost = randomUUID()
    await withRollback(sql, async (tx) => {
      await expect(
        tx.savepoint((sp) => consumeAt(sp, ghost, 'api_calls', 1, FEB)),
      ).rejects.toHaveProperty('code', 'NOUSR')
      // A keyed call fails the same way, not on the ledger's foreign key.
      await expect(
        tx.savepoint((sp) => consumeAt(sp, ghost, 'api_calls', 1, FEB, 'ghost-key')),
      ).rejects.toHaveProperty('code', 'NOUSR')
      const [row] = await tx<{ counters: number; events: number }[]>`
        select
          (select count(*)::int from tollgate_private.usage_counters where user_id = ${ghost}::uuid)
            as counters,
          (select count(*)::int from tollgate_private.usage_events where user_id = ${ghost}::uuid)
            as events`
      expect(row).toEqual({ counters: 0, events: 0 })
    })
  })

  it('refuses a null user id (NOUSR)', async ({ sql }) => {
    await expect(
      withRollback(sql, (tx) => consumeAt(tx, null, 'api_calls', 1, FEB)),
    ).rejects.toHaveProperty('code', 'NOUSR')
  })

  it('refuses a random user id through service_role_consume_usage (NOUSR)', async ({ sql }) => {
    await expect(
      asServiceRole(
        sql,
        (tx) =>
          tx`select tollgate.service_role_consume_usage(${randomUUID()}::uuid, 'api_calls', 1)`,
      ),
    ).rejects.toHaveProperty('code', 'NOUSR')
  })
})
