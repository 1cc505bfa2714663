import { describe, expect } from 'vitest'
import { createUser, withRollback } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'

describe('tollgate_private.send_reminders (run by maintenance)', () => {
  it('notifies trial_ending 3 days ahead and renewal_upcoming 7 days ahead of a yearly Stripe plan, once', async ({
    sql,
  }) => {
    await withRollback(sql, async (tx) => {
      const trialing = await createUser(tx)
      const later = await createUser(tx)
      const yearly = await createUser(tx)
      const monthly = await createUser(tx)
      const cancelling = await createUser(tx)
      await tx`insert into tollgate.plans (id, name, amount, currency, "interval") values ('pro_year', 'Pro yearly', 29000, 'usd', 'year')`
      await tx`
        insert into tollgate.subscriptions
          (user_id, plan_id, status, provider, current_period_start, current_period_end, trial_end, cancel_at_period_end)
        values
          (${trialing.id}, 'pro', 'trialing', 'stripe', now() - interval '11 days', now() + interval '2 days', now() + interval '2 days', false),
          (${later.id}, 'pro', 'trialing', 'stripe', now() - interval '1 day', now() + interval '13 days', now() + interval '13 days', false),
          (${yearly.id}, 'pro_year', 'active', 'stripe', now() - interval '360 days', now() + interval '5 days', null, false),
          (${monthly.id}, 'pro', 'active', 'stripe', now() - interval '25 days', now() + interval '5 days', null, false),
          (${cancelling.id}, 'pro_year', 'active', 'stripe', now() - interval '360 days', now() + interval '5 days', null, true)`
      const [first] = await tx<{ r: unknown }[]>`select tollgate_private.send_reminders() as r`
      const [second] = await tx<{ r: unknown }[]>`select tollgate_private.run_maintenance() -> 'reminders' as r`
      expect(first?.r).toEqual({ trial_ending: 1, renewal_upcoming: 1 })
      expect(second?.r).toEqual({ trial_ending: 0, renewal_upcoming: 0 })
      const rows = await tx<{ user_id: string; kind: string; data: Record<string, unknown> }[]>`
        select user_id, kind, data from tollgate.notifications
        where user_id in (${trialing.id}, ${later.id}, ${yearly.id}, ${monthly.id}, ${cancelling.id})
        order by kind`
      expect(rows.map((r) => [r.user_id, r.kind])).toEqual([
        [yearly.id, 'renewal_upcoming'],
        [trialing.id, 'trial_ending'],
      ])
      expect(rows[0]?.data).toMatchObject({ plan_id: 'pro_year', amount: 29000, currency: 'usd' })
    })
  })
})
