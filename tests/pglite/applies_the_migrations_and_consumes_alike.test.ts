import type { PGlite, Transaction } from '@electric-sql/pglite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listMigrations } from '../../packages/db/src/migrate.ts'
import { asUser, createUser, ownerSql, type TestUser, type Tx } from '../helpers/db.ts'
import { applyDatabase, openPglite, withClaims } from './pglite.ts'

// Supabase and PGlite run in UTC; jsonb renders period_end in the session's TimeZone, so the
// cluster session is pinned to UTC too and the host's zone cannot make the engines differ.
const sql = ownerSql({
  max: 1,
  connection: { application_name: 'tollgate-tests', TimeZone: 'UTC' },
})

let pg: PGlite
let applied: string[] = []
const timings = { coldStartMs: 0, applyMs: 0 }

beforeAll(async () => {
  const opened = performance.now()
  pg = await openPglite()
  const ready = performance.now()
  applied = await applyDatabase(pg)
  timings.coldStartMs = Math.round(ready - opened)
  timings.applyMs = Math.round(performance.now() - ready)
})

afterAll(async () => {
  await pg?.close()
  await sql.end()
})

/** One engine seen the same way: a statement's single value, as text. */
type Engine = {
  value: (text: string, params?: unknown[]) => Promise<string>
  asUser: <T>(user: TestUser, fn: (value: Engine['value']) => Promise<T>) => Promise<T>
}

const postgresValue =
  (q: typeof sql | Tx) =>
  async (text: string, params: unknown[] = []): Promise<string> => {
    const [row] = await q.unsafe<{ value: string }[]>(text, params as never[])
    if (!row) throw new Error(`no row from: ${text}`)
    return row.value
  }

const pgliteValue =
  (q: PGlite | Transaction) =>
  async (text: string, params: unknown[] = []): Promise<string> => {
    const [row] = (await q.query<{ value: string }>(text, params)).rows
    if (!row) throw new Error(`no row from: ${text}`)
    return row.value
  }

const postgres: Engine = {
  value: postgresValue(sql),
  asUser: (user, fn) => asUser(sql, user, (tx) => fn(postgresValue(tx))),
}

const pglite: Engine = {
  value: (text, params) => pgliteValue(pg)(text, params),
  asUser: (user, fn) => withClaims(pg, user.claims, (tx) => fn(pgliteValue(tx))),
}

/** Commits a user to the cluster, and the same user (same id) to PGlite. */
const createUserOnBoth = async (): Promise<TestUser> => {
  const user = await createUser(sql)
  await pg.query(
    `insert into auth.users (
      id, instance_id, aud, role, email, encrypted_password, email_confirmed_at,
      raw_app_meta_data, raw_user_meta_data, created_at, updated_at
    ) values (
      $1, '00000000-0000-0000-0000-000000000000', 'authenticated', 'authenticated', $2, '', now(),
      $3::jsonb, $4::jsonb, now(), now()
    )`,
    [
      user.id,
      user.email,
      JSON.stringify(user.claims.app_metadata),
      JSON.stringify(user.claims.user_metadata),
    ],
  )
  return user
}

/** A call's answer (jsonb as text) or its SQLSTATE. */
type Outcome = { answer: string } | { error: string }

const isSqlError = (error: unknown): error is { code: string } =>
  typeof error === 'object' &&
  error !== null &&
  'code' in error &&
  typeof error.code === 'string' &&
  /^[0-9A-Z]{5}$/.test(error.code)

const outcomeOf = async (run: () => Promise<string>): Promise<Outcome> => {
  try {
    return { answer: await run() }
  } catch (error) {
    if (isSqlError(error)) return { error: error.code }
    throw error
  }
}

const parsed = (outcome: Outcome): unknown =>
  'answer' in outcome ? { answer: JSON.parse(outcome.answer) } : outcome

type Call = {
  fn: 'consume_usage' | 'release_usage'
  metric: string
  amount: number | null
  key: string | null
  asOf: string
}

const consume = (
  metric: string,
  amount: number | null,
  key: string | null,
  asOf: string,
): Call => ({ fn: 'consume_usage', metric, amount, key, asOf })

const release = (metric: string, amount: number | null, asOf: string): Call => ({
  fn: 'release_usage',
  metric,
  amount,
  key: null,
  asOf,
})

const answer = (
  allowed: boolean,
  metric: string,
  used: number,
  quota: number,
  remaining: number | null,
  periodEnd: string | null,
) => ({
  answer: {
    allowed,
    metric,
    used,
    quota,
    remaining,
    period_end: periodEnd,
    credits_remaining: 0,
    credits_drawn: 0,
  },
})

const FEB_29_NOON = '2024-02-29T12:00:00Z'
// The first instant of March: the free plan's calendar month rolls here.
const MARCH_1 = '2024-03-01T00:00:00Z'
const MARCH_15 = '2024-03-15T08:00:00Z'
const END_OF_FEB = '2024-03-01T00:00:00+00:00'
const END_OF_MARCH = '2024-04-01T00:00:00+00:00'

// A free user (api_calls 1,000 a calendar month; projects a gauge of 3), step by step.
const scenario: [string, Call, unknown][] = [
  [
    '10 calls on Feb 29',
    consume('api_calls', 10, null, FEB_29_NOON),
    answer(true, 'api_calls', 10, 1000, 990, END_OF_FEB),
  ],
  [
    '990 more reach the quota exactly',
    consume('api_calls', 990, null, FEB_29_NOON),
    answer(true, 'api_calls', 1000, 1000, 0, END_OF_FEB),
  ],
  [
    'one more is refused and counts nothing',
    consume('api_calls', 1, null, FEB_29_NOON),
    answer(false, 'api_calls', 1000, 1000, 0, END_OF_FEB),
  ],
  [
    "key 'k' at the boundary starts March",
    consume('api_calls', 5, 'k', MARCH_1),
    answer(true, 'api_calls', 5, 1000, 995, END_OF_MARCH),
  ],
  [
    "key 'k' again returns the first answer",
    consume('api_calls', 5, 'k', MARCH_15),
    answer(true, 'api_calls', 5, 1000, 995, END_OF_MARCH),
  ],
  [
    "key 'k' for another amount (IDKEY)",
    consume('api_calls', 6, 'k', MARCH_15),
    { error: 'IDKEY' },
  ],
  ["key 'k' for another metric (IDKEY)", consume('projects', 5, 'k', MARCH_15), { error: 'IDKEY' }],
  [
    "one more call counts on top of key 'k' counted once",
    consume('api_calls', 1, null, MARCH_15),
    answer(true, 'api_calls', 6, 1000, 994, END_OF_MARCH),
  ],
  ['a zero amount (INAMT)', consume('api_calls', 0, null, MARCH_15), { error: 'INAMT' }],
  ['a null amount (INAMT)', consume('api_calls', null, null, MARCH_15), { error: 'INAMT' }],
  ['an unknown metric (NOMET)', consume('teleports', 1, null, MARCH_15), { error: 'NOMET' }],
  [
    '3 projects fill the gauge',
    consume('projects', 3, null, MARCH_15),
    answer(true, 'projects', 3, 3, 0, null),
  ],
  [
    'a 4th project is refused',
    consume('projects', 1, null, MARCH_15),
    answer(false, 'projects', 3, 3, 0, null),
  ],
  [
    'releasing 2 projects',
    release('projects', 2, MARCH_15),
    answer(true, 'projects', 1, 3, 2, null),
  ],
  [
    'releasing 5 more stops at zero',
    release('projects', 5, MARCH_15),
    answer(true, 'projects', 0, 3, 3, null),
  ],
  ['releasing a resetting metric (GAUGE)', release('api_calls', 1, MARCH_15), { error: 'GAUGE' }],
  ['releasing zero (INAMT)', release('projects', 0, MARCH_15), { error: 'INAMT' }],
]

const runScenario = async (engine: Engine, userId: string): Promise<[string, Outcome][]> => {
  const outcomes: [string, Outcome][] = []
  for (const [label, call] of scenario) {
    const text = `
      select tollgate_private.${call.fn}($1::uuid, $2::text, $3::bigint, $4::text, $5::timestamptz)::text
        as value`
    const params = [userId, call.metric, call.amount, call.key, call.asOf]
    outcomes.push([label, await outcomeOf(() => engine.value(text, params))])
  }
  return outcomes
}

// Grants as grantee:privilege:grantable, without MAINTAIN: Postgres 17 added it and gives it to
// owners implicitly, so only PGlite (Postgres 18) lists it.
const grants = (acl: string): string => `(
  select pg_catalog.string_agg(format('%s:%s:%s', case when g.grantee = 0 then 'public'
      else pg_catalog.pg_get_userbyid(g.grantee) end, g.privilege_type, g.is_grantable), ','
    order by 1)
  from pg_catalog.aclexplode(${acl}) g
  where g.privilege_type <> 'MAINTAIN')`

// Every Tollgate object with what decides its behaviour: signature, volatility, security,
// search_path, owner, RLS, policies, grants, triggers, comments.
const CATALOG = `
  with ours as (
    select oid from pg_catalog.pg_namespace where nspname in ('auth', 'tollgate', 'tollgate_private')
  ), lines as (
    select format('function %s(%s) %s %s definer=%s %s body=%s owner=%s acl=%s comment=%s',
      p.oid::regproc, pg_catalog.pg_get_function_identity_arguments(p.oid),
      pg_catalog.pg_get_function_result(p.oid), p.provolatile, p.prosecdef, p.proconfig,
      pg_catalog.md5(p.prosrc),
      pg_catalog.pg_get_userbyid(p.proowner), ${grants('p.proacl')}, pg_catalog.obj_description(p.oid, 'pg_proc')
    ) as line
    from pg_catalog.pg_proc p where p.pronamespace in (select oid from ours)
    union all
    select format('relation %s kind=%s rls=%s forced=%s owner=%s acl=%s options=%s comment=%s',
      c.oid::regclass, c.relkind, c.relrowsecurity, c.relforcerowsecurity,
      pg_catalog.pg_get_userbyid(c.relowner), ${grants('c.relacl')}, c.reloptions,
      pg_catalog.obj_description(c.oid, 'pg_class'))
    from pg_catalog.pg_class c where c.relnamespace in (select oid from ours)
    union all
    select format('column %s.%s %s notnull=%s default=%s comment=%s',
      a.attrelid::regclass, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
      pg_catalog.pg_get_expr(d.adbin, d.adrelid), pg_catalog.col_description(a.attrelid, a.attnum))
    from pg_catalog.pg_attribute a
    join pg_catalog.pg_class c on c.oid = a.attrelid
    left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
    where c.relnamespace in (select oid from ours) and a.attnum > 0 and not a.attisdropped
      and c.relkind in ('r', 'v')
    union all
    select format('policy %s.%s %s permissive=%s roles=%s using=%s check=%s',
      p.schemaname, p.policyname, p.cmd, p.permissive, p.roles, p.qual, p.with_check)
    from pg_catalog.pg_policies p where p.schemaname in ('auth', 'tollgate', 'tollgate_private')
    union all
    select format('trigger %s on %s enabled=%s', t.tgname, t.tgrelid::regclass, t.tgenabled)
    from pg_catalog.pg_trigger t
    join pg_catalog.pg_class c on c.oid = t.tgrelid
    where c.relnamespace in (select oid from ours) and not t.tgisinternal
    union all
    select format('role %s super=%s inherit=%s login=%s bypassrls=%s member of %s', r.rolname,
      r.rolsuper, r.rolinherit, r.rolcanlogin, r.rolbypassrls, array(
        select pg_catalog.pg_get_userbyid(m.roleid) from pg_catalog.pg_auth_members m
        where m.member = r.oid order by 1))
    from pg_catalog.pg_roles r
    -- Not postgres: PGlite's is the superuser it runs as; the cluster's is a plain owner.
    where r.rolname in ('anon', 'authenticated', 'service_role', 'authenticator', 'supabase_admin')
    union all
    select format('schema %s owner=%s acl=%s',
      n.nspname, pg_catalog.pg_get_userbyid(n.nspowner), ${grants('n.nspacl')})
    from pg_catalog.pg_namespace n where n.oid in (select oid from ours)
  )
  select coalesce(jsonb_agg(line order by line collate "C"), '[]')::text as value from lines`

const SEED = `
  select jsonb_build_object(
    'plans', (select jsonb_agg(to_jsonb(p) - 'created_at' - 'updated_at' order by p.id) from tollgate.plans p),
    'plan_limits', (select jsonb_agg(to_jsonb(l) - 'created_at' - 'updated_at' order by l.plan_id, l.metric)
      from tollgate.plan_limits l)
  )::text as value`

describe('PGlite, the embedded database of the local stack', () => {
  it('applies the bootstrap, migrations and seed into the same schema as Postgres 15', async ({
    annotate,
  }) => {
    const { coldStartMs, applyMs } = timings
    await annotate(`PGlite cold start ${coldStartMs} ms; bootstrap, migrations, seed ${applyMs} ms`)
    expect(applied).toEqual((await listMigrations()).map((m) => m.version))
    const catalog = JSON.parse(await pglite.value(CATALOG)) as string[]
    expect(catalog.length).toBeGreaterThan(100)
    expect(catalog).toEqual(JSON.parse(await postgres.value(CATALOG)))
    const seed = JSON.parse(await pglite.value(SEED))
    expect(seed.plans.map((p: { id: string }) => p.id)).toEqual(['enterprise', 'free', 'pro'])
    expect(seed.plan_limits).toHaveLength(15)
    expect(seed).toEqual(JSON.parse(await postgres.value(SEED)))
  })

  it(
    'answers consume_usage and release_usage exactly as Postgres 15 does (INAMT, NOMET, IDKEY, GAUGE)',
    async () => {
      const user = await createUserOnBoth()
      const onPostgres = await runScenario(postgres, user.id)
      const onPglite = await runScenario(pglite, user.id)
      // Same jsonb text, byte for byte, and the same SQLSTATEs.
      expect(onPglite).toEqual(onPostgres)
      expect(onPostgres.map(([label, outcome]) => [label, parsed(outcome)])).toEqual(
        scenario.map(([label, , expected]) => [label, expected]),
      )
    },
  )

  it('counts tollgate.consume_usage for the signed-in user as Postgres 15 does', async () => {
    const user = await createUserOnBoth()
    const signedIn = (engine: Engine) =>
      engine.asUser(user, async (value) => ({
        role: await value('select current_user::text as value'),
        first: await value(
          "select tollgate.consume_usage('api_calls', 1, 'from-the-app')::text as value",
        ),
        again: await value(
          "select tollgate.consume_usage('api_calls', 1, 'from-the-app')::text as value",
        ),
        nextMonth: await value(
          `select to_jsonb((pg_catalog.date_trunc('month', now() at time zone 'UTC')
            + interval '1 month') at time zone 'UTC') #>> '{}' as value`,
        ),
      }))
    const onPostgres = await signedIn(postgres)
    const onPglite = await signedIn(pglite)
    expect(onPglite).toEqual(onPostgres)
    expect(onPglite.role).toBe('authenticated')
    const expected = {
      allowed: true,
      metric: 'api_calls',
      used: 1,
      quota: 1000,
      remaining: 999,
      period_end: onPglite.nextMonth,
      credits_remaining: 0,
      credits_drawn: 0,
    }
    expect(JSON.parse(onPglite.first)).toEqual(expected)
    expect(JSON.parse(onPglite.again)).toEqual(expected)
  })

  it('shows a signed-in user only their own usage and subscriptions under RLS', async () => {
    const user = await createUserOnBoth()
    const other = await createUserOnBoth()
    const insertCanceled = `
      insert into tollgate.subscriptions (
        user_id, plan_id, status, provider, current_period_start, current_period_end)
      values ($1, 'pro', 'canceled', 'internal', now() - interval '1 month', now())
      returning 'inserted' as value`
    for (const engine of [postgres, pglite]) {
      for (const who of [user, other]) await engine.value(insertCanceled, [who.id])
    }
    const seen = (engine: Engine) =>
      engine.asUser(user, async (value) => ({
        usage: await value(
          `select jsonb_agg(jsonb_build_object('mine', u.user_id = auth.uid(), 'metric', u.metric,
              'period', u.period, 'used', u.used, 'quota', u.quota, 'remaining', u.remaining)
            order by u.metric)::text as value
          from tollgate.usage u`,
        ),
        usageRows: await value('select count(*)::text as value from tollgate.usage'),
        subscriptions: await value(
          `select count(*)::text as value from tollgate.subscriptions
          where user_id = $1 or user_id = $2`,
          [user.id, other.id],
        ),
      }))
    const onPostgres = await seen(postgres)
    const onPglite = await seen(pglite)
    expect(onPglite).toEqual(onPostgres)
    expect(onPglite.usageRows).toBe('5')
    expect(onPglite.subscriptions).toBe('1')
    expect(JSON.parse(onPglite.usage)).toEqual([
      { mine: true, metric: 'api_calls', period: 'month', used: 0, quota: 1000, remaining: 1000 },
      { mine: true, metric: 'api_keys', period: 'never', used: 0, quota: 2, remaining: 2 },
      { mine: true, metric: 'projects', period: 'never', used: 0, quota: 3, remaining: 3 },
      { mine: true, metric: 'requests', period: 'hour', used: 0, quota: 100, remaining: 100 },
      { mine: true, metric: 'storage_gb', period: 'never', used: 0, quota: 1, remaining: 1 },
    ])
  })

  it('keeps a signed-in user out of tollgate_private.usage_counters (42501)', async () => {
    const user = await createUserOnBoth()
    const read = (engine: Engine) =>
      engine.asUser(user, (value) =>
        value('select count(*)::text as value from tollgate_private.usage_counters'),
      )
    await expect(read(postgres)).rejects.toHaveProperty('code', '42501')
    await expect(read(pglite)).rejects.toHaveProperty('code', '42501')
    // The failed request was rolled back: the PGlite session is usable and back to postgres.
    expect(await pglite.value('select current_user::text as value')).toBe('postgres')
  })
})
