import { randomUUID } from 'node:crypto'
import { describe, expect } from 'vitest'
import { createUser, withRollback } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'

describe('deleting a user from auth.users (Studio, the Auth admin API)', () => {
  it('queues the cancellation of their live Stripe subscription in the provider outbox, which outlives them', async ({
    sql,
  }) => {
    await withRollback(sql, async (tx) => {
      const user = await createUser(tx)
      const stripeId = `sub_${randomUUID().replaceAll('-', '').slice(0, 14)}`
      const [sub] = await tx<{ id: string }[]>`
        insert into tollgate.subscriptions (user_id, plan_id, status, provider, current_period_start, current_period_end)
        values (${user.id}, 'pro', 'active', 'stripe', now(), now() + interval '1 month') returning id`
      await tx`
        insert into tollgate_private.provider_refs (provider, object_type, provider_id, local_id, user_id)
        values ('stripe', 'subscription', ${stripeId}, ${sub!.id}, ${user.id})`
      // A Razorpay period bills nothing recurring: nothing to cancel there.
      const other = await createUser(tx)
      await tx`
        insert into tollgate.subscriptions (user_id, plan_id, status, provider, current_period_start, current_period_end)
        values (${other.id}, 'pro', 'active', 'razorpay', now(), now() + interval '1 month')`

      await tx`delete from auth.users where id in ${tx([user.id, other.id])}`

      const actions = await tx`
        select provider, action, provider_object_id, user_id, reason, state
        from tollgate_private.provider_actions where created_at = now() and reason = 'user deleted'`
      expect(actions).toEqual([
        {
          provider: 'stripe',
          action: 'cancel_subscription',
          provider_object_id: stripeId,
          user_id: null,
          reason: 'user deleted',
          state: 'pending',
        },
      ])
      const [{ left }] = await tx`
        select (select count(*) from tollgate.subscriptions where user_id in ${tx([user.id, other.id])})::int as left`
      expect(left).toBe(0)
    })
  })
})
