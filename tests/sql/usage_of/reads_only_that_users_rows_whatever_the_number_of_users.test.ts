import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serviceRoleClaims, userClaims, type Claims, type Sql, type Tx } from '../../helpers/db.ts'
import { buildScratch, type Built } from '../../schema/scratch.ts'
import { become } from '../rls/fixture.ts'

// The cost of tollgate.usage_of(user_id) must not grow with the number of users (REVIEW M-5). Not
// timed: Postgres counts the rows each statement reads in pg_stat_xact_user_tables, so the test
// compares what one call reads with 300 and with 1,800 other users in the database. Everything
// happens in one repeatable-read transaction that is rolled back, on a database of the file's own:
// in the shared test database the planner's statistics come from whatever other files left there,
// and a full suite once saw a plan reading 240 counter rows where this file alone reads 5.
let db: Built
beforeAll(async () => {
  db = await buildScratch('migrations', { seed: true })
}, 120_000)
afterAll(async () => {
  await db?.close()
})

// Tables whose size grows with the number of users.
const PER_USER_TABLES = [
  'auth.users',
  'tollgate.subscriptions',
  'tollgate_private.usage_counters',
  'tollgate_private.usage_events',
]

type Reads = Record<string, { scans: number; seqScans: number; rows: number }>

const readsSoFar = async (tx: Tx): Promise<Reads> => {
  type Row = { rel: string; seq_scan: number; idx_scan: number; rows: number }
  const rows = await tx<Row[]>`
    select schemaname || '.' || relname as rel, seq_scan::int,
      coalesce(idx_scan, 0)::int as idx_scan, (seq_tup_read + coalesce(idx_tup_fetch, 0))::int as rows
    from pg_catalog.pg_stat_xact_user_tables
    where schemaname || '.' || relname = any(${PER_USER_TABLES})`
  return Object.fromEntries(
    PER_USER_TABLES.map((table) => {
      const row = rows.find((r) => r.rel === table)
      return [
        table,
        {
          scans: (row?.seq_scan ?? 0) + (row?.idx_scan ?? 0),
          seqScans: row?.seq_scan ?? 0,
          rows: row?.rows ?? 0,
        },
      ]
    }),
  )
}

/** What `statement` read from each per-user table. */
const readsOf = async (tx: Tx, statement: () => Promise<unknown>): Promise<Reads> => {
  const before = await readsSoFar(tx)
  await statement()
  const after = await readsSoFar(tx)
  return Object.fromEntries(
    PER_USER_TABLES.map((table) => {
      const a = after[table] ?? { scans: 0, seqScans: 0, rows: 0 }
      const b = before[table] ?? { scans: 0, seqScans: 0, rows: 0 }
      return [
        table,
        { scans: a.scans - b.scans, seqScans: a.seqScans - b.seqScans, rows: a.rows - b.rows },
      ]
    }),
  )
}

// `count` users, each with an ended subscription and the five counters of plan free (which the
// subscription trigger makes), written as Tollgate writes them. Then Tollgate's per-user tables are
// analyzed (ANALYZE counts this transaction's own rows; its statistics roll back with it): the
// planner sees the crowd as a database with that many users would show it, not whatever an
// earlier rolled-back test or autovacuum left (a full run once planned 5 scans of 1,801 counters
// each, where the primary key reads one).
const addUsers = async (tx: Tx, count: number) => {
  await tx`
    with made as (
      insert into auth.users (id, instance_id, aud, role, email, created_at, updated_at)
      select gen_random_uuid(), '00000000-0000-0000-0000-000000000000', 'authenticated',
        'authenticated', 'crowd-' || gen_random_uuid() || '@example.test', now(), now()
      from generate_series(1, ${count}::int)
      returning id
    )
    insert into tollgate.subscriptions (
      user_id, plan_id, status, provider, current_period_start, current_period_end, canceled_at,
      ended_at
    )
    select made.id, 'pro', 'canceled', 'internal', now() - interval '2 months',
      now() - interval '1 month', now() - interval '1 month', now() - interval '1 month'
    from made`
  await tx`analyze tollgate.subscriptions, tollgate_private.usage_counters, tollgate_private.usage_events`
}

const usageOf = (tx: Tx, userId: string) => tx`select * from tollgate.usage_of(${userId}::uuid)`

const readAs = async (tx: Tx, claims: Claims, statement: () => Promise<unknown>) => {
  await become(tx, claims)
  try {
    return await readsOf(tx, statement)
  } finally {
    await tx`reset role`
  }
}

const inCrowd = <T>(sql: Sql, fn: (tx: Tx, target: string) => Promise<T>): Promise<T> => {
  let result: { value: T } | undefined
  return sql
    .begin('isolation level repeatable read', async (tx) => {
      const [target] = await tx<{ id: string }[]>`
        insert into auth.users (id, instance_id, aud, role, email, created_at, updated_at)
        values (gen_random_uuid(), '00000000-0000-0000-0000-000000000000', 'authenticated',
          'authenticated', 'target-' || gen_random_uuid() || '@example.test', now(), now())
        returning id::text`
      if (!target) throw new Error('no user')
      // A pro subscriber who has used some of the plan.
      await tx`
        insert into tollgate.subscriptions (
          user_id, plan_id, status, provider, current_period_start, current_period_end
        ) values (${target.id}, 'pro', 'active', 'internal', now(), now() + interval '1 month')`
      await tx`
        select tollgate_private.consume_usage(${target.id}::uuid, 'api_calls', 7, null, now())`
      result = { value: await fn(tx, target.id) }
      throw new Error('rollback')
    })
    .catch((error: Error) => {
      if (error.message !== 'rollback' || !result) throw error
      return result.value
    })
}

const admin = () => userClaims('00000000-0000-4000-8000-00000000ad00', { admin: true })

describe('tollgate.usage_of', () => {
  it.for<[string, () => Claims]>([
    ['an admin', admin],
    ['the service role', serviceRoleClaims],
  ])('reads the same rows for %s with 300 or 1,800 other users', async ([_, claimsOf]) => {
    const { small, large, rows, crowd } = await inCrowd(db.sql, async (tx, target) => {
      await addUsers(tx, 300)
      // Once before measuring, so both measured calls run with the session's cached plans.
      await readAs(tx, claimsOf(), () => usageOf(tx, target))
      const small = await readAs(tx, claimsOf(), () => usageOf(tx, target))
      await addUsers(tx, 1500)
      const large = await readAs(tx, claimsOf(), () => usageOf(tx, target))
      const [crowd] = await tx<{ subscriptions: number; counters: number }[]>`
        select (select count(*)::int from tollgate.subscriptions) as subscriptions,
          (select count(*)::int from tollgate_private.usage_counters) as counters`
      await become(tx, claimsOf())
      const rows = await tx<{ metric: string; used: string }[]>`
        select metric, used from tollgate.usage_of(${target}::uuid)`
      return { small, large, rows, crowd }
    })
    expect(crowd?.subscriptions).toBeGreaterThan(1800)
    expect(crowd?.counters).toBeGreaterThan(5 * 1800)
    expect(rows).toEqual([
      { metric: 'api_calls', used: '7' },
      { metric: 'api_keys', used: '0' },
      { metric: 'projects', used: '0' },
      { metric: 'requests', used: '0' },
      { metric: 'storage_gb', used: '0' },
    ])
    expect(large).toEqual(small)
    // The user's row, their live subscription (none or one) and their five counters, by index.
    expect(small['auth.users']).toEqual({ scans: 1, seqScans: 0, rows: 1 })
    // The subscription lookup may be planned as an index or a sequential scan (the planner's
    // statistics of a table the suite keeps rolling back say little); either way it read the
    // same with 1,500 more subscriptions (large equals small above).
    expect(small['tollgate_private.usage_counters']).toMatchObject({ seqScans: 0 })
    // Their five counters, by index; read twice at most (once more when a refresh re-reads them,
    // which a full suite on a loaded machine has shown: 10). Never the other users' 9,000.
    expect(small['tollgate_private.usage_counters']?.rows).toBeLessThanOrEqual(10)
    expect(small['tollgate_private.usage_events']?.rows).toBe(0)
  })

  it('is cheap where an admin reading tollgate.usage for one user reads every user', async () => {
    const { view, direct } = await inCrowd(db.sql, async (tx, target) => {
      await addUsers(tx, 300)
      const view = await readAs(
        tx,
        admin(),
        () => tx`select * from tollgate.usage where user_id = ${target}::uuid`,
      )
      const direct = await readAs(tx, admin(), () => usageOf(tx, target))
      return { view, direct }
    })
    // The measure sees the difference: the view computes every user's rows before the filter.
    expect(view['auth.users']?.rows).toBeGreaterThan(300)
    expect(direct['auth.users']?.rows).toBe(1)
  })
})
