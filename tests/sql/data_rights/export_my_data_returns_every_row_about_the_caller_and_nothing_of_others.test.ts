import { describe, expect } from 'vitest'
import { asAdmin, asAnon, asUser, pgError, type Sql, type TestUser } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'

/** A user with a row in every table that holds data about them (committed). */
const withData = async (sql: Sql, user: TestUser, admin: TestUser): Promise<void> => {
  const [sub] = await sql<{ id: string }[]>`
    insert into tollgate.subscriptions (user_id, plan_id, status, provider, current_period_start, current_period_end)
    values (${user.id}, 'pro', 'active', 'stripe', now(), now() + interval '1 month') returning id`
  await sql`
    insert into tollgate.invoices (user_id, subscription_id, provider, status, currency, amount_due, amount_paid, paid_at)
    values (${user.id}, ${sub!.id}, 'stripe', 'paid', 'usd', 2900, 2900, now())`
  const [purchase] = await sql<{ id: string }[]>`
    insert into tollgate.purchases (user_id, product_id, provider, currency, amount_paid)
    values (${user.id}, 'api_calls_pack', 'stripe', 'usd', 900) returning id`
  await sql`select tollgate_private.grant_credits(${user.id}, 'api_calls', 50000, null, 'purchase', ${purchase!.id})`
  await sql`insert into tollgate_private.customers (user_id, provider, provider_customer_id)
    values (${user.id}, 'stripe', ${'cus_' + user.id.slice(0, 8)})`
  await asUser(sql, user, (tx) => tx`select tollgate.consume_usage('api_calls', 3, 'k1', '{"endpoint": "/x"}')`, { commit: true })
  await asUser(sql, user, (tx) => tx`select tollgate.set_notification_preferences(array['quota_warning'])`, { commit: true })
  await asAdmin(sql, admin, (tx) => tx`select tollgate.admin_grant_credits(${user.id}, 'api_calls', 10, null, 'goodwill')`, { commit: true })
  await asUser(sql, user, (tx) => tx`select tollgate.create_api_key('my server', '{read}')`, { commit: true })
}

describe('tollgate.export_my_data', () => {
  it('returns every Tollgate row about the caller, readable, and none of another user', async ({ sql, users }) => {
    const me = await users.create()
    const other = await users.create()
    const admin = await users.create({ admin: true })
    await withData(sql, me, admin)
    await withData(sql, other, admin)

    const [{ data }] = await asUser(sql, me, (tx) => tx`select tollgate.export_my_data() as data`)

    expect(data.user).toEqual({ id: me.id, email: me.email, created_at: expect.any(String) })
    expect(data.subscriptions.map((s: any) => [s.user_id, s.plan_id])).toEqual([[me.id, 'pro']])
    expect(data.invoices.map((i: any) => [i.user_id, i.amount_paid])).toEqual([[me.id, 2900]])
    expect(data.purchases.map((p: any) => [p.user_id, p.product_id])).toEqual([[me.id, 'api_calls_pack']])
    expect(data.credits.map((g: any) => [g.source, g.granted])).toEqual([['purchase', 50000], ['admin', 10]])
    expect(data.usage.map((r: any) => r.metric)).toEqual(['api_calls', 'api_keys', 'projects', 'requests', 'storage_gb'])
    expect(data.ledger.rows).toEqual([
      expect.objectContaining({ metric: 'api_calls', amount: 3, allowed: true, idempotency_key: 'k1', metadata: { endpoint: '/x' } }),
      // The API key made counts one of the api_keys gauge.
      expect.objectContaining({ metric: 'api_keys', amount: 1, allowed: true }),
    ])
    expect(data.notification_preferences).toMatchObject({ user_id: me.id, email_opt_out: ['quota_warning'] })
    // Key metadata, never the key or its hash.
    expect(data.api_keys).toEqual([
      expect.objectContaining({ name: 'my server', scopes: ['read'], prefix: expect.stringMatching(/^tg_[0-9a-f]{12}$/), revoked_at: null }),
    ])
    expect(Object.keys(data.api_keys[0]).sort()).toEqual(
      ['created_at', 'expires_at', 'id', 'last_used_at', 'name', 'prefix', 'revoked_at', 'scopes'])
    expect(data.payment_accounts).toEqual([
      { provider: 'stripe', customer_id: 'cus_' + me.id.slice(0, 8), created_at: expect.any(String) },
    ])
    // The admin who granted credits is a role, not a person's id.
    expect(data.audit).toContainEqual(expect.objectContaining({ table: 'credit_balances', by: 'authenticated', reason: 'admin: goodwill' }))
    expect(JSON.stringify(data)).not.toContain(other.id)
    expect(JSON.stringify(data)).not.toContain(admin.id)
  })

  it('summarises a ledger of more than 1000 rows and serves it whole by pages', async ({ sql, user }) => {
    await sql`
      insert into tollgate_private.usage_events (user_id, metric, amount, allowed, created_at)
      select ${user.id}, 'api_calls', 1, g % 10 <> 0, now() - make_interval(secs => g)
      from generate_series(1, 1500) g`
    const [{ data }] = await asUser(sql, user, (tx) => tx`select tollgate.export_my_data() as data`)
    expect(data.ledger).toMatchObject({ rows_total: 1500, pages: 2, page_size: 1000 })
    expect(data.ledger.rows).toBeUndefined()
    const summed = data.ledger.summary.reduce((n: number, d: any) => n + d.calls, 0)
    expect(summed).toBe(1500)
    expect(data.ledger.summary.reduce((n: number, d: any) => n + d.refused, 0)).toBe(150)

    const pages = await asUser(sql, user, (tx) => tx`
      select tollgate.export_my_data(ledger_page => 1) as one, tollgate.export_my_data(ledger_page => 2) as two`)
    expect(pages[0]!.one.rows).toHaveLength(1000)
    expect(pages[0]!.two.rows).toHaveLength(500)
    const bad = await pgError(asUser(sql, user, (tx) => tx`select tollgate.export_my_data(ledger_page => 3)`))
    expect(bad.code).toBe('BADRQ')
  })

  it('is for signed-in users only (anon: 42501)', async ({ sql }) => {
    const error = await pgError(asAnon(sql, (tx) => tx`select tollgate.export_my_data()`))
    expect(error.code).toBe('42501')
  })
})
