import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { createUser, withRollback } from '../../helpers/db.ts'
import { consume, insertSubscription } from './support.ts'

describe('deleting a user from auth.users', () => {
  it('removes their subscriptions and usage counters with them', async ({ sql }) => {
    await withRollback(sql, async (tx) => {
      const user = await createUser(tx)
      await insertSubscription(tx, user.id, { planId: 'pro' })
      await consume(tx, user.id, 'api_calls', 5)
      await tx`delete from auth.users where id = ${user.id}::uuid`
      const [row] = await tx<{ subscriptions: number; counters: number }[]>`
        select
          (select count(*)::int from tollgate.subscriptions where user_id = ${user.id}::uuid)
            as subscriptions,
          (select count(*)::int from tollgate_private.usage_counters
            where user_id = ${user.id}::uuid) as counters`
      expect(row).toEqual({ subscriptions: 0, counters: 0 })
    })
  })
})
