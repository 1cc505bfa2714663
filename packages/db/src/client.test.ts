import { afterAll, describe, expect, inject, it } from 'vitest'
import { anonClaims, createUser, ownerSql, serviceRoleClaims } from '../../../tests/helpers/db.ts'
import { readEnv } from '../../core/src/env.ts'
import { createDb, type Db, dbUrlFrom, poolFor, preparesOn, withClaims } from './client.ts'

// One connection, so every query below runs on the session withClaims used.
const url = inject('databaseUrl')
const db = createDb(url, { max: 1, applicationName: 'tollgate-client-test' })
const owner = ownerSql({ max: 1 })
const others: Db[] = []
afterAll(() => Promise.all([db.end(), owner.end(), ...others.map((pool) => pool.end())]))

// The URL with its query parameters set.
const withQuery = (base: string, query: Record<string, string>): string => {
  const parsed = new URL(base)
  for (const [name, value] of Object.entries(query)) parsed.searchParams.set(name, value)
  return parsed.toString()
}

// How many named statements the pool's one session holds after running a query twice.
const preparedBy = async (pool: Db): Promise<number> => {
  others.push(pool)
  await pool`select ${1}::int as x`
  await pool`select ${1}::int as x`
  const [row] = await pool<{ n: number }[]>`
    select count(*)::int as n from pg_prepared_statements
    where statement like 'select $1::int as x%'`
  return row?.n ?? -1
}

type Who = { role: string; uid: string | null; admin: string | null }

describe('withClaims', () => {
  it('runs as the role of the claims with auth.uid() of their subject', async () => {
    const user = await createUser(owner)
    const who = await withClaims(db, user.claims, async (tx) => {
      const [row] = await tx<Who[]>`
        select current_user as role, auth.uid()::text as uid,
          auth.jwt() -> 'app_metadata' ->> 'role' as admin`
      return row
    })
    expect(who).toEqual({ role: 'authenticated', uid: user.id, admin: null })
  })

  it('leaves the connection as it found it once the transaction ends', async () => {
    const user = await createUser(owner)
    await withClaims(db, user.claims, (tx) => tx`select 1`)
    const [row] = await db<Who[]>`select current_user as role, auth.uid()::text as uid`
    expect(row).toEqual({ role: 'postgres', uid: null })
  })

  it('lets RLS see the caller: a user reads only their own usage', async () => {
    const user = await createUser(owner)
    const rows = await withClaims(
      db,
      user.claims,
      (tx) =>
        tx<{ metric: string; used: number; quota: number }[]>`
        select metric, used, quota from tollgate.usage order by metric`,
    )
    expect(rows).toEqual([
      { metric: 'api_calls', used: 0, quota: 1000 },
      { metric: 'api_keys', used: 0, quota: 2 },
      { metric: 'projects', used: 0, quota: 3 },
      { metric: 'requests', used: 0, quota: 100 },
      { metric: 'storage_gb', used: 0, quota: 1 },
    ])
  })

  it('rejects with the SQLSTATE of a failing statement (INAMT)', async () => {
    const user = await createUser(owner)
    await expect(
      withClaims(db, user.claims, (tx) => tx`select tollgate.consume_usage('api_calls', 0)`),
    ).rejects.toHaveProperty('code', 'INAMT')
  })

  it('runs as anon for the anon key, which may not consume usage (42501)', async () => {
    await expect(
      withClaims(db, anonClaims(), (tx) => tx`select tollgate.consume_usage('api_calls')`),
    ).rejects.toHaveProperty('code', '42501')
  })

  it('rolls back everything fn did when fn throws', async () => {
    const user = await createUser(owner)
    await expect(
      withClaims(db, serviceRoleClaims(), async (tx) => {
        await tx`select tollgate.service_role_consume_usage(${user.id}, 'api_calls', 5)`
        throw new Error('handler failed after the SQL call')
      }),
    ).rejects.toThrow('handler failed after the SQL call')
    const [usage] = await withClaims(
      db,
      user.claims,
      (tx) => tx<{ used: number }[]>`select used from tollgate.usage where metric = 'api_calls'`,
    )
    expect(usage).toEqual({ used: 0 })
  })
})

describe('createDb', () => {
  it('reads int8 as a number while it is a safe integer, else as the exact string', async () => {
    const [row] = await db`
      select 2900::int8 as amount, (-1)::int8 as unlimited, 9007199254740991::int8 as max_safe,
        9007199254740992::int8 as too_big, array[1, 9007199254740993]::int8[] as list,
        count(*) as n
      from (values (1), (2)) v(x)`
    expect(row).toEqual({
      amount: 2900,
      unlimited: -1,
      max_safe: 9007199254740991,
      too_big: '9007199254740992',
      n: 2,
      list: [1, '9007199254740993'],
    })
  })

  it('sends numbers and bigints as int8 parameters', async () => {
    const [row] = await db`
      select ${9007199254740993n}::int8 + 0 as from_bigint, ${41}::int8 + 1 as from_number`
    expect(row).toEqual({ from_bigint: '9007199254740993', from_number: 42 })
  })

  it.skipIf(!preparesOn(url))('prepares named statements on a direct connection', async () => {
    expect(await preparedBy(createDb(url, { max: 1 }))).toBe(1)
  })

  it('never prepares through a pooler (pgbouncer=true) nor when told not to', async () => {
    // Postgres would refuse pgbouncer as a startup parameter: createDb leaves it out.
    expect(await preparedBy(createDb(withQuery(url, { pgbouncer: 'true' }), { max: 1 }))).toBe(0)
    expect(await preparedBy(createDb(url, { max: 1, prepare: false }))).toBe(0)
  })
})

describe('preparesOn', () => {
  const pooler = 'postgres://postgres.abcd:pw@aws-0-eu-central-1.pooler.supabase.com'
  const direct = 'postgres://postgres:pw@db.abcd.supabase.co:5432/postgres'

  it('is false for transaction pooling, pgbouncer=true, prepare=false and unparsable URLs', () => {
    expect(preparesOn(`${pooler}:6543/postgres`)).toBe(false)
    expect(preparesOn(`${direct}?pgbouncer=true`)).toBe(false)
    expect(preparesOn('postgres://postgres@127.0.0.1:5432/postgres?prepare=false')).toBe(false)
    expect(preparesOn('postgres://u@h1:5432,h2:5432/postgres')).toBe(false)
  })

  it('is true for direct connections, the session pooler and the local stack', () => {
    expect(preparesOn(direct)).toBe(true)
    expect(preparesOn(`${pooler}:5432/postgres`)).toBe(true)
    expect(preparesOn('postgres://postgres@127.0.0.1:54329/postgres')).toBe(true)
    expect(preparesOn('postgresql://postgres@localhost/postgres?sslmode=disable')).toBe(true)
  })
})

describe('poolFor', () => {
  it('makes one pool per URL and settings; TOLLGATE_DB_PREPARE=false: no preparing', async () => {
    const env = { DATABASE_URL: url, TOLLGATE_DB_PREPARE: false }
    const pool = poolFor(env, { max: 1, applicationName: 'tollgate-client-test-pool' })
    expect(poolFor({ ...env }, { max: 1, applicationName: 'tollgate-client-test-pool' })).toBe(pool)
    expect(poolFor({ ...env, TOLLGATE_DB_PREPARE: true }, { max: 1 })).not.toBe(pool)
    others.push(poolFor({ ...env, TOLLGATE_DB_PREPARE: true }, { max: 1 }))
    expect(await preparedBy(pool)).toBe(0)
  })
})

describe('poolFor timeouts', () => {
  type Timeouts = { statement_timeout: string; lock_timeout: string }
  const timeoutsOf = async (pool: Db): Promise<Timeouts | undefined> => {
    others.push(pool)
    const [row] = await pool<Timeouts[]>`
      select current_setting('statement_timeout') as statement_timeout,
        current_setting('lock_timeout') as lock_timeout`
    return row
  }

  it('gives its connections statement_timeout 8s and lock_timeout 3s', async () => {
    const pool = poolFor({ DATABASE_URL: url }, { max: 1, applicationName: 'timeouts-default' })
    expect(await timeoutsOf(pool)).toEqual({ statement_timeout: '8s', lock_timeout: '3s' })
  })

  it('takes TOLLGATE_DB_STATEMENT_TIMEOUT and TOLLGATE_DB_LOCK_TIMEOUT', async () => {
    const env = readEnv({
      DATABASE_URL: url,
      TOLLGATE_DB_STATEMENT_TIMEOUT: '250ms',
      TOLLGATE_DB_LOCK_TIMEOUT: '1min',
    })
    const pool = poolFor(env, { max: 1, applicationName: 'timeouts-set' })
    expect(await timeoutsOf(pool)).toEqual({ statement_timeout: '250ms', lock_timeout: '1min' })
    await expect(pool`select pg_sleep(2)`).rejects.toMatchObject({ code: '57014' })
  })

  it("leaves them to the server's settings through a transaction pooler, which refuses them", async () => {
    const env = { DATABASE_URL: url, TOLLGATE_DB_PREPARE: false }
    const pool = poolFor(env, { max: 1, applicationName: 'timeouts-pooled' })
    expect(await timeoutsOf(pool)).toEqual({ statement_timeout: '0', lock_timeout: '0' })
  })
})

describe('dbUrlFrom', () => {
  it('prefers DATABASE_URL', () => {
    expect(dbUrlFrom({ DATABASE_URL: 'postgres://a', SUPABASE_DB_URL: 'postgres://b' })).toBe(
      'postgres://a',
    )
  })

  it('falls back to SUPABASE_DB_URL', () => {
    expect(dbUrlFrom({ SUPABASE_DB_URL: 'postgres://b' })).toBe('postgres://b')
  })

  it('refuses when neither is set, naming DATABASE_URL (NOCFG)', () => {
    expect(() => dbUrlFrom({})).toThrow(
      expect.objectContaining({ code: 'NOCFG', status: 503, details: { missing: 'DATABASE_URL' } }),
    )
  })
})
