import { afterAll, describe, expect, it } from 'vitest'
import { superSql, type Tx, withRollback } from '../../helpers/db.ts'
import { testUsers } from './support.ts'

// A superuser, only to count trigger calls (track_functions); nothing here is about privileges.
const sql = superSql()
const users = testUsers(sql)
afterAll(async () => {
  await users.drop()
  await sql.end()
})

type Scenario = {
  status: string
  provider: string
  anchored: boolean
  cancelAtPeriodEnd: boolean
  trial: boolean
  base: 'current' | 'lapsed'
  move: 'renewal' | 'end' | 'start'
}

const STATUSES = ['trialing', 'active', 'past_due', 'unpaid', 'paused', 'canceled', 'incomplete']
const PROVIDERS = ['stripe', 'razorpay', 'internal']

const scenarios: Scenario[] = STATUSES.flatMap((status) =>
  PROVIDERS.flatMap((provider) =>
    [false, true].flatMap((anchored) =>
      [false, true].flatMap((cancelAtPeriodEnd) =>
        (status === 'trialing' ? [false, true] : [false]).flatMap((trial) =>
          (['current', 'lapsed'] as const).flatMap((base) =>
            (['renewal', 'end', 'start'] as const).map((move) => ({
              status,
              provider,
              anchored,
              cancelAtPeriodEnd,
              trial,
              base,
              move,
            })),
          ),
        ),
      ),
    ),
  ),
)

// Periods relative to now(): a current one, and one that ended two days ago (inside the grace).
const PERIODS = {
  current: { start: '-10 days', end: '20 days' },
  lapsed: { start: '-45 days', end: '-2 days' },
}
// A renewal moves both ends a month on; the others move one end (keeping end > start).
const MOVES = {
  renewal: { start: '30 days', end: '30 days' },
  end: { start: '0', end: '-1 day' },
  start: { start: '-5 days', end: '0' },
}

const syncCalls = async (tx: Tx): Promise<number> => {
  const [row] = await tx<{ calls: number }[]>`
    select coalesce(sum(calls), 0)::int as calls from pg_catalog.pg_stat_xact_user_functions
    where schemaname = 'tollgate_private' and funcname = 'tg_subscriptions__sync_usage'`
  return row?.calls ?? 0
}

// Counters without their timestamps of change, and the entitlement at moments around the periods.
const stateOf = async (tx: Tx, userId: string) => {
  const [row] = await tx<{ counters: unknown; entitlement: unknown }[]>`
    select
      (select coalesce(jsonb_agg(to_jsonb(c) - 'created_at' - 'updated_at' order by c.metric), '[]')
       from tollgate_private.usage_counters c where c.user_id = ${userId}::uuid) as counters,
      (select jsonb_agg(to_jsonb(e) - 'subscription_id' order by at.at)
       from unnest(array[now(), now() + interval '2 days', now() + interval '19 days',
         now() + interval '25 days', now() + interval '55 days']) at(at)
       cross join lateral tollgate_private.entitlement(${userId}::uuid, at.at) e) as entitlement`
  if (!row) throw new Error('no state')
  return row
}

describe('updating a subscription', () => {
  it('leaves the counters as a full sync would, skipping it for a plain Stripe renewal', async () => {
    const user = await users.create()
    await withRollback(sql, async (tx) => {
      await tx`set local track_functions = 'pl'`
      const wrong: string[] = []
      const skipped: string[] = []
      let entitlementChanged = 0
      for (const s of scenarios) {
        const name = JSON.stringify(s)
        const period = PERIODS[s.base]
        const move = MOVES[s.move]
        const [sub] = await tx<{ id: string }[]>`
          insert into tollgate.subscriptions (
            user_id, plan_id, status, provider, current_period_start, current_period_end,
            billing_cycle_anchor, cancel_at_period_end, trial_end
          ) values (
            ${user.id}::uuid, 'pro', ${s.status}, ${s.provider},
            now() + ${period.start}::interval, now() + ${period.end}::interval,
            case when ${s.anchored} then now() - interval '100 days' end,
            ${s.cancelAtPeriodEnd},
            case when ${s.trial} then now() + interval '3 days' end
          ) returning id`
        if (!sub) throw new Error('no subscription')
        const before = await stateOf(tx, user.id)
        const calls = await syncCalls(tx)
        await tx`
          update tollgate.subscriptions
          set current_period_start = current_period_start + ${move.start}::interval,
              current_period_end = current_period_end + ${move.end}::interval
          where id = ${sub.id}::uuid`
        const fired = (await syncCalls(tx)) > calls
        const after = await stateOf(tx, user.id)
        if (JSON.stringify(after.entitlement) !== JSON.stringify(before.entitlement)) {
          entitlementChanged++
        }
        if (!fired) skipped.push(name)
        // What the sync would make of the counters now, which the update must already have done.
        await tx`select tollgate_private.sync_usage_counters(${user.id}::uuid, now())`
        const synced = await stateOf(tx, user.id)
        if (JSON.stringify(synced.counters) !== JSON.stringify(after.counters)) {
          wrong.push(`${name} (sync ${fired ? 'ran' : 'skipped'})`)
        }
        await tx`delete from tollgate.subscriptions where id = ${sub.id}::uuid`
      }
      expect(wrong).toEqual([])
      // The cases are not all alike: some updates change the entitlement, some skip the sync.
      expect(entitlementChanged).toBeGreaterThan(20)
      expect(skipped.length).toBeGreaterThan(20)
      // The case the skip is for: a live Stripe subscription with an anchor, renewed.
      for (const status of ['trialing', 'active']) {
        expect(skipped).toContain(
          JSON.stringify({
            status,
            provider: 'stripe',
            anchored: true,
            cancelAtPeriodEnd: false,
            trial: false,
            base: 'current',
            move: 'renewal',
          } satisfies Scenario),
        )
      }
    })
  })

  it('still syncs when anything else the plan depends on changes', async () => {
    const user = await users.create()
    await withRollback(sql, async (tx) => {
      await tx`set local track_functions = 'pl'`
      const [sub] = await tx<{ id: string }[]>`
        insert into tollgate.subscriptions (
          user_id, plan_id, status, provider, current_period_start, current_period_end,
          billing_cycle_anchor
        ) values (
          ${user.id}::uuid, 'pro', 'active', 'stripe', now() - interval '10 days',
          now() + interval '20 days', now() - interval '100 days'
        ) returning id`
      if (!sub) throw new Error('no subscription')
      const changes = [
        `plan_id = 'enterprise'`,
        `status = 'past_due'`,
        `status = 'active'`,
        `cancel_at_period_end = true`,
        `billing_cycle_anchor = now() - interval '50 days'`,
        `billing_cycle_anchor = null`,
        `current_period_start = current_period_start - interval '1 day'`,
        `provider = 'internal'`,
        `current_period_end = current_period_end + interval '1 day'`,
        `trial_end = now()`,
      ]
      const notFired: string[] = []
      for (const change of changes) {
        const calls = await syncCalls(tx)
        await tx.unsafe(`update tollgate.subscriptions set ${change} where id = $1::uuid`, [sub.id])
        if ((await syncCalls(tx)) === calls) notFired.push(change)
      }
      expect(notFired).toEqual([])
    })
  })
})
