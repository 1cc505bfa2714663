import { describe, expect } from 'vitest'
import { asServiceRole, asUser, pgError, asAnon } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'
import { subscribe } from './support.ts'

describe('current_plan, has_feature and entitlements for the caller', () => {
  it('a user without a subscription is on free, which unlocks no seeded feature', async ({ sql, user }) => {
    const seen = await asUser(sql, user, (tx) => tx`
      select tollgate.current_plan() as plan,
        tollgate.has_feature('export') as export,
        tollgate.has_feature('sso') as sso`)
    expect(seen).toEqual([{ plan: 'free', export: false, sso: false }])
  })

  it('pro unlocks export and priority_support, not sso; enterprise unlocks all three', async ({
    sql,
    users,
  }) => {
    const pro = await users.create()
    const enterprise = await users.create()
    await subscribe(sql, pro, 'pro')
    await subscribe(sql, enterprise, 'enterprise')
    const ask = (user: typeof pro) =>
      asUser(sql, user, (tx) => tx`
        select tollgate.current_plan() as plan,
          array[tollgate.has_feature('export'), tollgate.has_feature('priority_support'),
            tollgate.has_feature('sso'), tollgate.has_feature('nope')] as features`)
    expect(await ask(pro)).toEqual([{ plan: 'pro', features: [true, true, false, false] }])
    expect(await ask(enterprise)).toEqual([{ plan: 'enterprise', features: [true, true, true, false] }])
  })

  it('a subscription past its paid period and grace no longer counts: back to free', async ({
    sql,
    user,
  }) => {
    await sql`
      insert into tollgate.subscriptions (user_id, plan_id, status, provider, current_period_start, current_period_end)
      values (${user.id}, 'pro', 'active', 'internal', now() - interval '2 months', now() - interval '1 month')`
    const [seen] = await asUser(sql, user, (tx) => tx`
      select tollgate.current_plan() as plan, tollgate.has_feature('export') as export`)
    expect(seen).toEqual({ plan: 'free', export: false })
  })

  it('entitlements answers plan, status, features and usage in one call', async ({ sql, user }) => {
    await subscribe(sql, user, 'pro', 'trialing')
    const [{ e }] = await asUser(sql, user, (tx) => tx`select tollgate.entitlements() as e`)
    expect(e).toMatchObject({
      plan_id: 'pro',
      status: 'trialing',
      features: ['export', 'priority_support'],
    })
    // The usage rows of tollgate.usage: pro's 100,000 calls plus the 1,000 free calls carried into
    // the new paid period (carry_over), 20 API keys, 100 projects, 1,000 requests an hour, 50 GB.
    expect(e.usage.map((r: { metric: string; quota: number }) => [r.metric, r.quota])).toEqual([
      ['api_calls', 101000],
      ['api_keys', 20],
      ['projects', 100],
      ['requests', 1000],
      ['storage_gb', 50],
    ])
  })

  it('the service role is no user: free, no features; anon cannot call them (42501)', async ({ sql }) => {
    const [seen] = await asServiceRole(sql, (tx) => tx`
      select tollgate.current_plan() as plan, tollgate.has_feature('export') as export,
        tollgate.entitlements() ->> 'status' as status`)
    expect(seen).toEqual({ plan: 'free', export: false, status: null })
    const error = await pgError(asAnon(sql, (tx) => tx`select tollgate.has_feature('export')`))
    expect(error.code).toBe('42501')
  })
})
