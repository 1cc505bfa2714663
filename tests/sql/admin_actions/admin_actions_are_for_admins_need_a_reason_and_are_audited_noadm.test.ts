import { describe, expect } from 'vitest'
import { asAdmin, asServiceRole, asUser, pgError, type Sql } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'

const auditOf = (sql: Sql, userId: string, table: string) =>
  sql<{ action: string; actor_user_id: string | null; actor_role: string; reason: string; new_values: any; old_values: any }[]>`
    select action, actor_user_id, actor_role, reason, new_values, old_values
    from tollgate_private.audit_log
    where user_id = ${userId} and table_name = ${table}
    order by id`

const ACTIONS = [
  (userId: string) => `select tollgate.admin_grant_plan('${userId}', 'pro', now() + interval '30 days', 'x')`,
  (userId: string) => `select tollgate.admin_grant_credits('${userId}', 'api_calls', 100, null, 'x')`,
  (userId: string) => `select tollgate.admin_reset_usage('${userId}', 'api_calls', 'x')`,
]

describe('admin actions', () => {
  it('refuse a signed-in user who is no admin (403 NOADM) and change nothing', async ({ sql, user, users }) => {
    const target = await users.create()
    for (const action of ACTIONS) {
      const error = await pgError(asUser(sql, user, (tx) => tx.unsafe(action(target.id))))
      expect(error.code).toBe('NOADM')
    }
    const [{ n }] = await sql`
      select (select count(*) from tollgate.subscriptions where user_id = ${target.id})
        + (select count(*) from tollgate.credit_balances where user_id = ${target.id})
        + (select count(*) from tollgate_private.audit_log where user_id = ${target.id}) as n`
    expect(Number(n)).toBe(0)
  })

  it('refuse a missing or blank reason (400 BADRQ)', async ({ sql, admin, user }) => {
    for (const reason of [null, '', '   ', 'x'.repeat(501)]) {
      const error = await pgError(asAdmin(sql, admin, (tx) =>
        tx`select tollgate.admin_grant_credits(${user.id}, 'api_calls', 100, null, ${reason})`))
      expect(error.code).toBe('BADRQ')
    }
  })

  it('admin_grant_plan gives an internal plan until ends_at, audited with the admin and the reason', async ({
    sql,
    admin,
    user,
  }) => {
    const endsAt = new Date(Date.now() + 30 * 86_400_000)
    const [{ s }] = await asAdmin(sql, admin, (tx) =>
      tx`select tollgate.admin_grant_plan(${user.id}, 'enterprise', ${endsAt}, 'support ticket 17') as s`,
      { commit: true })
    expect(s).toMatchObject({ plan_id: 'enterprise', status: 'active', provider: 'internal', cancel_at_period_end: true })
    expect(new Date(s.current_period_end).getTime()).toBe(endsAt.getTime())
    const [plan] = await asUser(sql, user, (tx) => tx`select tollgate.current_plan() as plan`)
    expect(plan).toEqual({ plan: 'enterprise' })
    expect(await auditOf(sql, user.id, 'subscriptions')).toEqual([
      expect.objectContaining({
        action: 'insert',
        actor_user_id: admin.id,
        actor_role: 'authenticated',
        reason: 'admin: support ticket 17',
        new_values: { plan_id: 'enterprise', status: 'active' },
      }),
    ])
  })

  it('admin_grant_plan replaces an earlier grant but never a paid subscription (409 HASUB)', async ({
    sql,
    admin,
    users,
  }) => {
    const granted = await users.create()
    const paying = await users.create()
    await asServiceRole(sql, (tx) =>
      tx`select tollgate.admin_grant_plan(${granted.id}, 'pro', now() + interval '7 days', 'trial extension')`,
      { commit: true })
    await asAdmin(sql, admin, (tx) =>
      tx`select tollgate.admin_grant_plan(${granted.id}, 'enterprise', now() + interval '7 days', 'upgrade for a demo')`,
      { commit: true })
    const subs = await sql`
      select plan_id, status from tollgate.subscriptions where user_id = ${granted.id} order by created_at, plan_id`
    expect(subs).toEqual([
      { plan_id: 'pro', status: 'canceled' },
      { plan_id: 'enterprise', status: 'active' },
    ])

    await sql`
      insert into tollgate.subscriptions (user_id, plan_id, status, provider, current_period_start, current_period_end)
      values (${paying.id}, 'pro', 'active', 'stripe', now(), now() + interval '1 month')`
    const error = await pgError(asAdmin(sql, admin, (tx) =>
      tx`select tollgate.admin_grant_plan(${paying.id}, 'enterprise', now() + interval '7 days', 'demo')`))
    expect(error.code).toBe('HASUB')
  })

  it('admin_grant_plan refuses free, an unknown plan and an ends_at in the past', async ({ sql, admin, user }) => {
    const cases: [string, string, string][] = [
      ['free', '1 day', 'BADRQ'],
      ['nope', '1 day', 'NOPLN'],
      ['pro', '-1 day', 'BADRQ'],
      ['pro', '11 years', 'BADRQ'],
    ]
    for (const [plan, offset, code] of cases) {
      const error = await pgError(asAdmin(sql, admin, (tx) =>
        tx`select tollgate.admin_grant_plan(${user.id}, ${plan}, now() + ${offset}::interval, 'r')`))
      expect(error.code).toBe(code)
    }
  })

  it('admin_grant_credits adds an admin grant to the credit store, audited', async ({ sql, admin, user }) => {
    const [{ g }] = await asAdmin(sql, admin, (tx) =>
      tx`select tollgate.admin_grant_credits(${user.id}, 'api_calls', 2500, null, 'outage compensation') as g`,
      { commit: true })
    expect(g).toMatchObject({ user_id: user.id, metric: 'api_calls', granted: 2500, remaining: 2500, source: 'admin', reason: 'outage compensation' })
    const [own] = await asUser(sql, user, (tx) =>
      tx`select metric, remaining, source from tollgate.credit_balances`)
    expect(own).toEqual({ metric: 'api_calls', remaining: '2500', source: 'admin' })
    expect(await auditOf(sql, user.id, 'credit_balances')).toEqual([
      expect.objectContaining({
        action: 'insert',
        actor_user_id: admin.id,
        reason: 'admin: outage compensation',
        new_values: { metric: 'api_calls', granted: 2500, expires_at: null },
      }),
    ])
  })

  it('admin_reset_usage zeroes the current period of a resetting metric, audited with the old count; gauges refuse', async ({
    sql,
    user,
  }) => {
    await asUser(sql, user, (tx) => tx`select tollgate.consume_usage('api_calls', 40)`, { commit: true })
    const [{ r }] = await asServiceRole(sql, (tx) =>
      tx`select tollgate.admin_reset_usage(${user.id}, 'api_calls', 'double counted import') as r`,
      { commit: true })
    expect(r).toEqual({ metric: 'api_calls', used_before: 40, used: 0 })
    const [usage] = await asUser(sql, user, (tx) =>
      tx`select used, remaining from tollgate.usage where metric = 'api_calls'`)
    expect(usage).toEqual({ used: '0', remaining: '1000' })
    expect(await auditOf(sql, user.id, 'usage_counters')).toEqual([
      expect.objectContaining({
        action: 'update',
        actor_user_id: null,
        actor_role: 'service_role',
        reason: 'admin: double counted import',
        old_values: expect.objectContaining({ metric: 'api_calls', used: 40 }),
        new_values: { metric: 'api_calls', used: 0 },
      }),
    ])

    // The ledger still adds up to the counter (a release of the period's count, marked), and the
    // usage over time still shows the 40 consumed.
    const [ledger] = await sql`
      select sum(amount)::int as sum, count(*) filter (where metadata ? 'admin_reset')::int as resets
      from tollgate_private.usage_events where user_id = ${user.id} and metric = 'api_calls'`
    expect(ledger).toEqual({ sum: 0, resets: 1 })
    const [history] = await asUser(sql, user, (tx) => tx`
      select sum(used)::int as used from tollgate.usage_history('api_calls', now() - interval '1 hour', now() + interval '1 hour', 'hour')`)
    expect(history).toEqual({ used: 40 })

    // Nothing counted: nothing to reset, nothing audited.
    const [{ again }] = await asServiceRole(sql, (tx) =>
      tx`select tollgate.admin_reset_usage(${user.id}, 'api_calls', 'again') as again`, { commit: true })
    expect(again).toEqual({ metric: 'api_calls', used_before: 0, used: 0 })
    expect(await auditOf(sql, user.id, 'usage_counters')).toHaveLength(1)

    await asUser(sql, user, (tx) => tx`select tollgate.consume_usage('projects', 2)`, { commit: true })
    const gauge = await pgError(asServiceRole(sql, (tx) =>
      tx`select tollgate.admin_reset_usage(${user.id}, 'projects', 'x')`))
    expect(gauge.code).toBe('BADRQ')
  })
})
