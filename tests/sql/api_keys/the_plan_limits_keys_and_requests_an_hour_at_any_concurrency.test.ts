import postgres from 'postgres'
import { describe, expect, inject } from 'vitest'
import { asUser, pgError, type Sql, type TestUser } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'

const makeKey = async (sql: Sql, user: TestUser, name = 'server') => {
  const [{ made }] = await asUser(sql, user, (tx) => tx`select tollgate.create_api_key(${name}) as made`, { commit: true })
  return made as { id: string; key: string }
}

const keysGauge = async (sql: Sql, user: TestUser) => {
  const [row] = await sql`select used, quota from tollgate_private.usage_counters where user_id = ${user.id} and metric = 'api_keys'`
  return { used: Number(row!.used), quota: Number(row!.quota) }
}

// n separate connections (not a pool's few), each running one statement at the same moment.
const atOnce = async <T>(n: number, run: (conn: Sql) => Promise<T>): Promise<PromiseSettledResult<T>[]> => {
  const conns = Array.from({ length: n }, () => postgres(inject('databaseUrl'), { max: 1, onnotice: () => {}, prepare: false }))
  try {
    await Promise.all(conns.map((c) => c`select 1`))
    return await Promise.allSettled(conns.map((c) => run(c)))
  } finally {
    await Promise.all(conns.map((c) => c.end()))
  }
}

describe('the api_keys gauge', () => {
  it('lets a free user hold 2 live keys (QUOTA at the third), gives one back on revoke, and counts expired keys no more', async ({ sql, user }) => {
    const first = await makeKey(sql, user, 'one')
    await makeKey(sql, user, 'two')
    const third = await pgError(asUser(sql, user, (tx) => tx`select tollgate.create_api_key('three')`))
    expect(third.code).toBe('QUOTA')
    expect(await keysGauge(sql, user)).toEqual({ used: 2, quota: 2 })

    await asUser(sql, user, (tx) => tx`select tollgate.revoke_api_key(${first.id})`, { commit: true })
    // Revoking twice gives back nothing more.
    await asUser(sql, user, (tx) => tx`select tollgate.revoke_api_key(${first.id})`, { commit: true })
    expect(await keysGauge(sql, user)).toEqual({ used: 1, quota: 2 })
    const three = await makeKey(sql, user, 'three')
    expect(await keysGauge(sql, user)).toEqual({ used: 2, quota: 2 })

    await sql`update tollgate.api_keys set expires_at = now() - interval '1 minute' where id = ${three.id}`
    await makeKey(sql, user, 'four')
    const rows = await sql`select name, revoked_at is not null as revoked, revoked_at = expires_at as at_expiry
      from tollgate.api_keys where user_id = ${user.id} order by created_at`
    expect(rows.map((r) => [r.name, r.revoked])).toEqual([['one', true], ['two', false], ['three', true], ['four', false]])
    expect(rows[2]!.at_expiry).toBe(true)
    expect(await keysGauge(sql, user)).toEqual({ used: 2, quota: 2 })
  })

  it('never passes the limit when 8 makes race, and a stranger cannot revoke the key (NOKEY)', async ({ sql, users }) => {
    const owner = await users.create()
    const stranger = await users.create()
    const results = await atOnce(8, (conn) =>
      asUser(conn, owner, (tx) => tx`select tollgate.create_api_key('race')`, { commit: true }))
    const codes = results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code)).sort()
    expect(codes).toEqual(['QUOTA', 'QUOTA', 'QUOTA', 'QUOTA', 'QUOTA', 'QUOTA', 'ok', 'ok'])
    const [{ n }] = await sql`select count(*)::int as n from tollgate.api_keys where user_id = ${owner.id} and revoked_at is null`
    expect(n).toBe(2)
    const [key] = await sql`select id from tollgate.api_keys where user_id = ${owner.id} limit 1`
    expect((await pgError(asUser(sql, stranger, (tx) => tx`select tollgate.revoke_api_key(${key!.id})`))).code).toBe('NOKEY')
  })
})

describe('the hourly requests limit', () => {
  it('refuses the 101st request of a free user in an hour, from 16 connections at once, with Retry-After to the next hour', async ({ sql, user }) => {
    const { key } = await makeKey(sql, user)
    // 120 requests over 16 connections, all at once.
    const results = await atOnce(16, async (conn) => {
      const answers = []
      for (let i = 0; i < 8; i += 1) {
        const [{ m }] = await conn`select tollgate_private.meter_request(${key}, 'consume', 'api_calls', 1) as m`
        answers.push(m)
      }
      return answers
    })
    const answers = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : [])) as any[]
    expect(answers).toHaveLength(128)
    const allowed = answers.filter((a) => a.rate.allowed)
    const refused = answers.filter((a) => !a.rate.allowed)
    expect(allowed).toHaveLength(100)
    expect(refused).toHaveLength(28)
    // Each allowed answer saw a distinct remaining count: 99 down to 0.
    expect(allowed.map((a) => a.rate.remaining).sort((x: number, y: number) => y - x)).toEqual(
      Array.from({ length: 100 }, (_, i) => 99 - i))
    const nextHour = Math.ceil((Date.now() + 1) / 3_600_000) * 3600
    for (const a of refused) {
      expect(a.answer).toBeUndefined()
      expect(a.rate).toMatchObject({ allowed: false, limit: 100, remaining: 0, reset: nextHour })
      expect(a.rate.retry_after).toBeGreaterThan(0)
      expect(a.rate.retry_after).toBeLessThanOrEqual(3600)
      expect(Math.abs(a.rate.retry_after - (nextHour - Date.now() / 1000))).toBeLessThan(5)
    }
    const [{ used }] = await sql`select used from tollgate_private.usage_counters where user_id = ${user.id} and metric = 'api_calls'`
    expect(Number(used)).toBe(100)
    // No notice or email for a rate limit.
    const [{ n }] = await sql`select count(*)::int as n from tollgate.notifications where user_id = ${user.id}`
    expect(n).toBe(0)
  })

  it('starts again in the next hour', async ({ sql, user }) => {
    const { key } = await makeKey(sql, user)
    // The counter exists once a request was counted; then the hour is spent.
    await sql`select tollgate_private.limit_request(${user.id}, 'requests', now())`
    await sql`update tollgate_private.usage_counters set used = 100 where user_id = ${user.id} and metric = 'requests'`
    const [{ m: now }] = await sql`select tollgate_private.meter_request(${key}, 'read') as m`
    expect(now.rate).toMatchObject({ allowed: false, remaining: 0 })
    const [{ r: later }] = await sql`select tollgate_private.limit_request(${user.id}, 'requests', date_trunc('hour', now()) + interval '1 hour 1 second') as r`
    expect(later).toMatchObject({ allowed: true, limit: 100, remaining: 99 })
  })
})
