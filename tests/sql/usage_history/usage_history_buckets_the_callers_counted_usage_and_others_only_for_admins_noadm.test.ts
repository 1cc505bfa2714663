import { describe, expect } from 'vitest'
import { asAdmin, asServiceRole, asUser, pgError, withRollback, type Tx } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'

/** Ledger rows at given moments, as consume_usage writes them (the test moves them in time). */
const ledger = async (tx: Tx, userId: string, rows: [string, string, number, boolean][]) => {
  for (const [metric, at, amount, allowed] of rows) {
    await tx`
      insert into tollgate_private.usage_events (user_id, metric, amount, allowed, created_at)
      values (${userId}, ${metric}, ${amount}, ${allowed}, ${at}::timestamptz)`
  }
}

describe('tollgate.usage_history', () => {
  it('sums the counted calls per UTC day, zero for quiet days, refused calls and other metrics left out', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      await ledger(tx, user.id, [
        ['api_calls', '2026-11-01T00:00:00Z', 5, true],
        ['api_calls', '2026-11-01T23:59:59Z', 7, true],
        ['api_calls', '2026-11-01T12:00:00Z', 100, false],
        ['projects', '2026-11-01T12:00:00Z', 3, true],
        ['api_calls', '2026-11-03T08:00:00Z', 1, true],
        ['api_calls', '2026-11-04T00:00:00Z', 9, true],
      ])
      await tx`select set_config('role', 'authenticated', true),
        set_config('request.jwt.claims', ${JSON.stringify(user.claims)}, true)`
      const rows = await tx`
        select bucket_start, used from tollgate.usage_history('api_calls',
          '2026-11-01T00:00:00Z', '2026-11-04T00:00:00Z')`
      expect(rows).toEqual([
        { bucket_start: new Date('2026-11-01T00:00:00Z'), used: '12' },
        { bucket_start: new Date('2026-11-02T00:00:00Z'), used: '0' },
        { bucket_start: new Date('2026-11-03T00:00:00Z'), used: '1' },
      ])
      const months = await tx`
        select bucket_start, used from tollgate.usage_history('api_calls',
          '2026-10-15T00:00:00Z', '2026-12-01T00:00:00Z', 'month')`
      expect(months).toEqual([
        { bucket_start: new Date('2026-10-01T00:00:00Z'), used: '0' },
        { bucket_start: new Date('2026-11-01T00:00:00Z'), used: '22' },
      ])
    })
  })

  it("reads another user's history only for admins and the service role (403 NOADM otherwise)", async ({
    sql,
    users,
  }) => {
    const owner = await users.create()
    const other = await users.create()
    const admin = await users.create({ admin: true })
    await asUser(sql, owner, (tx) => tx`select tollgate.consume_usage('api_calls', 4)`, { commit: true })
    const range = [new Date(Date.now() - 3_600_000), new Date(Date.now() + 3_600_000)] as const
    const ask = (tx: Tx) =>
      tx`select sum(used)::int as used from tollgate.usage_history('api_calls', ${range[0]}, ${range[1]}, 'hour', ${owner.id})`

    expect(await asAdmin(sql, admin, ask)).toEqual([{ used: 4 }])
    expect(await asServiceRole(sql, ask)).toEqual([{ used: 4 }])
    expect(await asUser(sql, owner, ask)).toEqual([{ used: 4 }])
    expect((await pgError(asUser(sql, other, ask))).code).toBe('NOADM')
  })

  it('refuses a bad bucket, a reversed range and more than 1000 buckets (400 BADRQ)', async ({ sql, user }) => {
    for (const [from, to, bucket] of [
      ['2026-11-01', '2026-11-02', 'minute'],
      ['2026-11-02', '2026-11-01', 'day'],
      ['2020-01-01', '2026-01-01', 'hour'],
    ]) {
      const error = await pgError(asUser(sql, user, (tx) =>
        tx`select * from tollgate.usage_history('api_calls', ${from}::timestamptz, ${to}::timestamptz, ${bucket})`))
      expect(error.code).toBe('BADRQ')
    }
  })

  it("is served by the ledger's (user_id, created_at) index, not a scan of the whole ledger", async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      // Whatever the table's size in this test database: the question is which index can serve it.
      await tx`set local enable_seqscan = off`
      const plan = await tx.unsafe(`
        explain (format json)
        select date_trunc('day', e.created_at, 'UTC'), sum(e.amount)
        from tollgate_private.usage_events e
        where e.user_id = '${user.id}' and e.metric = 'api_calls' and e.allowed
          and e.created_at >= now() - interval '7 days' and e.created_at < now()
        group by 1`)
      // An index led by user_id (the planner may pick either on a small table), never a seq scan.
      const text = JSON.stringify(plan)
      expect(text).not.toContain('Seq Scan')
      expect(text).toMatch(/usage_events_user_id_(created_at_idx|idempotency_key_key)/)
    })
  })
})

describe('consume_usage metadata', () => {
  it('is stored on the ledger row; anything but a JSON object of at most 4096 characters is 400 BADRQ', async ({
    sql,
    user,
  }) => {
    await asUser(sql, user, (tx) =>
      tx`select tollgate.consume_usage('api_calls', 2, 'req-1', ${tx.json({ endpoint: '/v1/search' })})`,
      { commit: true })
    const [row] = await sql`
      select amount, metadata from tollgate_private.usage_events
      where user_id = ${user.id} and idempotency_key = 'req-1'`
    expect(row).toEqual({ amount: '2', metadata: { endpoint: '/v1/search' } })

    for (const bad of [[1, 2], 'text', { blob: 'x'.repeat(5000) }]) {
      const error = await pgError(asUser(sql, user, (tx) =>
        tx`select tollgate.consume_usage('api_calls', 1, null, ${tx.json(bad as never)})`))
      expect(error.code).toBe('BADRQ')
    }
    const [{ n }] = await sql`select count(*)::int as n from tollgate_private.usage_events where user_id = ${user.id}`
    expect(n).toBe(1)
  })
})
