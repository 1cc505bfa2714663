import { createHash } from 'node:crypto'
import { describe, expect } from 'vitest'
import { asAnon, asUser, pgError, type Sql, type TestUser } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'

type Made = { id: string; key: string; prefix: string; name: string; scopes: string[]; expires_at: string | null }

const makeKey = async (sql: Sql, user: TestUser, name = 'server', scopes?: string[], expiresAt?: string | null): Promise<Made> => {
  const [{ made }] = await asUser(sql, user, (tx) =>
    scopes === undefined
      ? tx`select tollgate.create_api_key(${name}) as made`
      : tx`select tollgate.create_api_key(${name}, ${scopes}, ${expiresAt ?? null}) as made`,
    { commit: true })
  return made
}

// What the metering function runs, as the owner role it connects with.
const meter = (sql: Sql, key: string, scope: string, metric: string | null = 'api_calls', amount: number | null = 1) =>
  sql`select tollgate_private.meter_request(${key}, ${scope}, ${metric}, ${amount}) as m`.then((rows) => rows[0]!.m)

describe('tollgate.create_api_key', () => {
  it('answers the key once, keeps only its SHA-256, and shows the owner its metadata', async ({ sql, users }) => {
    const owner = await users.create()
    const other = await users.create()
    const made = await makeKey(sql, owner, '  production  ')
    expect(made.key).toMatch(/^tg_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/)
    expect(made).toMatchObject({ prefix: made.key.slice(0, 15), name: 'production', scopes: ['consume', 'read'], expires_at: null })

    const [secret] = await sql`select hash from tollgate_private.api_key_secrets where key_id = ${made.id}`
    expect(Buffer.from(secret!.hash).toString('hex')).toBe(createHash('sha256').update(made.key).digest('hex'))
    // The key itself is in no table of either schema.
    const holders = await sql`
      select c.table_schema, c.table_name from information_schema.columns c
      where c.table_schema in ('tollgate', 'tollgate_private') and c.data_type in ('text', 'jsonb', 'ARRAY')
        and c.table_name in (select table_name from information_schema.tables where table_type = 'BASE TABLE')`
    for (const { table_schema, table_name } of holders) {
      const [hit] = await sql`select count(*)::int as n from ${sql(table_schema + '.' + table_name)} t
        where t::text like ${'%' + made.key.slice(16) + '%'}`
      expect(hit!.n, `${table_schema}.${table_name}`).toBe(0)
    }

    const mine = await asUser(sql, owner, (tx) => tx`select id, name, prefix, scopes, last_used_at, revoked_at from tollgate.api_keys`)
    expect(mine).toEqual([{ id: made.id, name: 'production', prefix: made.prefix, scopes: ['consume', 'read'], last_used_at: null, revoked_at: null }])
    expect(await asUser(sql, other, (tx) => tx`select id from tollgate.api_keys`)).toEqual([])
    expect((await pgError(asUser(sql, owner, (tx) => tx`select * from tollgate_private.api_key_secrets`))).code).toBe('42501')
    expect((await pgError(asAnon(sql, (tx) => tx`select tollgate.create_api_key('x')`))).code).toBe('42501')
  })

  it('refuses a blank name, unknown scopes, a past expiry and anonymous users, making nothing (BADRQ, ANONY)', async ({ sql, users }) => {
    const owner = await users.create()
    const bad = [
      (tx: any) => tx`select tollgate.create_api_key('   ')`,
      (tx: any) => tx`select tollgate.create_api_key('x', '{}'::text[])`,
      (tx: any) => tx`select tollgate.create_api_key('x', '{consume,admin}'::text[])`,
      (tx: any) => tx`select tollgate.create_api_key('x', array['read', null])`,
      (tx: any) => tx`select tollgate.create_api_key('x', '{read}'::text[], now() - interval '1 second')`,
    ]
    for (const call of bad) expect((await pgError(asUser(sql, owner, call))).code).toBe('BADRQ')
    // Supabase's anonymous sign-ins: role authenticated with is_anonymous true.
    const anonymous = { ...owner, claims: { ...owner.claims, is_anonymous: true } }
    expect((await pgError(asUser(sql, anonymous, (tx) => tx`select tollgate.create_api_key('x')`))).code).toBe('ANONY')
    const [{ n }] = await sql`select count(*)::int as n from tollgate.api_keys where user_id = ${owner.id}`
    expect(n).toBe(0)
  })
})

describe('an API key in tollgate_private.meter_request', () => {
  it('consumes for its owner, reads their usage, and stops working the moment it is revoked (BDKEY)', async ({ sql, users }) => {
    const owner = await users.create()
    const made = await makeKey(sql, owner)
    const answer = await meter(sql, made.key, 'consume', 'api_calls', 5)
    expect(answer.answer).toMatchObject({ allowed: true, metric: 'api_calls', used: 5, quota: 1000 })
    expect(answer.rate).toMatchObject({ allowed: true, limit: 100, remaining: 99 })
    const read = await meter(sql, made.key, 'read', null, null)
    expect(read.usage.find((r: any) => r.metric === 'api_calls')).toMatchObject({ used: 5 })
    expect(read.usage.find((r: any) => r.metric === 'requests')).toMatchObject({ used: 2, quota: 100, period: 'hour' })
    const [{ last_used_at }] = await sql`select last_used_at from tollgate.api_keys where id = ${made.id}`
    expect(last_used_at).toBeInstanceOf(Date)

    const [{ revoked }] = await asUser(sql, owner, (tx) => tx`select tollgate.revoke_api_key(${made.id}) as revoked`, { commit: true })
    expect(revoked.revoked_at).not.toBeNull()
    expect((await pgError(meter(sql, made.key, 'consume'))).code).toBe('BDKEY')
    const [{ used }] = await sql`select used from tollgate_private.usage_counters where user_id = ${owner.id} and metric = 'api_calls'`
    expect(Number(used)).toBe(5)
  })

  it('answers BDKEY alike for a malformed, unknown, wrong-secret or expired key, and KSCOP for a missing scope', async ({ sql, users }) => {
    const owner = await users.create()
    const made = await makeKey(sql, owner, 'reader', ['read'])
    const wrongSecret = made.key.slice(0, 16) + (made.key[16] === 'A' ? 'B' : 'A') + made.key.slice(17)
    for (const key of ['', 'tg_nothex', made.key + 'x', 'tg_000000000000_' + 'A'.repeat(43), wrongSecret]) {
      const error = await pgError(meter(sql, key, 'read'))
      expect({ code: error.code, message: error.message }).toEqual({ code: 'BDKEY', message: 'The API key is invalid, revoked or expired' })
    }
    expect((await pgError(meter(sql, made.key, 'consume'))).code).toBe('KSCOP')
    expect((await meter(sql, made.key, 'read', null, null)).rate.allowed).toBe(true)

    const expiring = await makeKey(sql, owner, 'short', ['consume'], new Date(Date.now() + 60_000).toISOString())
    await sql`update tollgate.api_keys set expires_at = now() - interval '1 second' where id = ${expiring.id}`
    expect((await pgError(meter(sql, expiring.key, 'consume'))).code).toBe('BDKEY')
    // Neither refusal counted a request.
    const [{ used }] = await sql`select used from tollgate_private.usage_counters where user_id = ${owner.id} and metric = 'requests'`
    expect(Number(used)).toBe(1)
  })

  it('leaves a failed consume uncounted, the request too, and still answers the rate state', async ({ sql, user }) => {
    const made = await makeKey(sql, user)
    const failed = await meter(sql, made.key, 'consume', 'no_such_metric', 1)
    expect(failed.error).toMatchObject({ code: 'NOMET' })
    expect(failed.rate).toMatchObject({ allowed: true, limit: 100, remaining: 100 })
    const ok = await meter(sql, made.key, 'consume', 'api_calls', 1)
    expect(ok.rate.remaining).toBe(99)
    const [{ n }] = await sql`select count(*)::int as n from tollgate_private.usage_events where user_id = ${user.id} and metric = 'requests'`
    expect(n).toBe(1)
  })
})
