import { randomUUID } from 'node:crypto'
import postgres from 'postgres'
import { startCluster, type Cluster } from '../../packages/db/src/cluster.ts'
import { applyBootstrap, applyMigrations, applySeed } from '../../packages/db/src/migrate.ts'

/** How many ordinary (free-plan) users the random-pick figures choose from. */
export const POOL_USERS = 10_000

/** Free-plan users past their api_calls quota who hold credits (the credit-drawing figure). */
export const CREDIT_USERS = 1000

/** Credits each of them holds: never used up in a run, never expiring. */
export const CREDIT_GRANT = 1_000_000_000_000

/** Rows of the ceiling's plain table (keys 1..CEILING_ROWS). */
export const CEILING_ROWS = 10_000

/** The ceiling's hot-row variant warms up on this key (never exhausted) ... */
export const CEILING_WARM_KEY = 1

/** ... and is measured on this one, whose quota is set just before its window. */
export const CEILING_HOT_KEY = 2

/** The hot-row variant inside the RPC framing is measured on this one. */
export const CEILING_FRAMED_HOT_KEY = 3

/** The quota of the naive baseline and of our run beside it. */
export const NAIVE_QUOTA = 1000

/** The metric every usage figure consumes. */
export const METRIC = 'api_calls'

/** A user of the bench database with the JWT claims PostgREST would put in `request.jwt.claims`. */
export type BenchUser = { id: string; claims: string }

/** Users of one figure each; `*Warm` ones take the warm-up so the measured one starts fresh. */
export type SpecialUsers = {
  hotWarm: BenchUser
  hotMeasured: BenchUser
  quotaWarm: BenchUser
  quotaAt8: BenchUser
  quotaAt32: BenchUser
  naiveWarm: string
  naiveAt8: string
  naiveAt32: string
}

/** A throwaway durable cluster loaded with the schema, the seed and the bench data. */
export type BenchDatabase = {
  cluster: Cluster
  /** The owner role `postgres` (what `supabase db push` and server-side app code use). */
  ownerUrl: string
  /** The role PostgREST logs in as (`authenticator`), which switches role per transaction. */
  apiUrl: string
  /** A superuser on the bench database (checkpoints, settings). */
  superUrl: string
  users: BenchUser[]
  /** Free users whose api_calls quota is spent and who hold CREDIT_GRANT credits each. */
  creditUsers: BenchUser[]
  special: SpecialUsers
  setupSeconds: number
  stop: () => Promise<void>
}

const DATABASE = 'tollgate_bench'
const INSTANCE_ID = '00000000-0000-0000-0000-000000000000'
const ISSUER = 'http://127.0.0.1:54321/auth/v1'

const connect = (url: string): postgres.Sql =>
  postgres(url, { max: 1, onnotice: () => {}, connection: { application_name: 'tollgate-bench' } })

const withSql = async <T>(url: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> => {
  const sql = connect(url)
  try {
    return await fn(sql)
  } finally {
    await sql.end()
  }
}

/** The claims Supabase Auth puts in a user's access token, as PostgREST hands them to Postgres. */
export const claimsFor = (id: string, email: string): string => {
  const iat = Math.floor(Date.now() / 1000)
  return JSON.stringify({
    iss: ISSUER,
    sub: id,
    aud: 'authenticated',
    exp: iat + 24 * 3600,
    iat,
    email,
    phone: '',
    app_metadata: { provider: 'email', providers: ['email'] },
    user_metadata: {},
    role: 'authenticated',
    aal: 'aal1',
    amr: [{ method: 'password', timestamp: iat }],
    session_id: randomUUID(),
    is_anonymous: false,
  })
}

/** Commits `count` users named `<prefix><n>@example.test`, with the claims PostgREST would set. */
export const insertUsers = async (sql: postgres.Sql, prefix: string, count: number) => {
  const rows = await sql<{ id: string; email: string }[]>`
    insert into auth.users (
      id, instance_id, aud, role, email, encrypted_password, email_confirmed_at,
      raw_app_meta_data, raw_user_meta_data, created_at, updated_at
    )
    select gen_random_uuid(), ${INSTANCE_ID}::uuid, 'authenticated', 'authenticated',
      ${prefix} || g || '@example.test', '', now(),
      '{"provider": "email", "providers": ["email"]}'::jsonb, '{}'::jsonb, now(), now()
    from generate_series(1, ${count}::int) g
    returning id::text, email`
  return rows.map((row): BenchUser => ({ id: row.id, claims: claimsFor(row.id, row.email) }))
}

const only = <T>(list: T[], index: number): T => {
  const item = list[index]
  if (item === undefined) throw new Error(`missing item ${index}`)
  return item
}

// Plans only the bench uses, so no figure depends on the seed's numbers. bench_hot's quota is set
// just before the hot-user window (see figures/hot.ts).
const BENCH_PLANS = `
  insert into tollgate.plans (id, name, amount, active) values
    ('bench_big', 'Bench: large quota', 0, false),
    ('bench_hot', 'Bench: hot user', 0, false),
    ('bench_1000', 'Bench: 1,000 calls', 0, false);
  insert into tollgate.plan_limits (plan_id, metric, quota, period) values
    ('bench_big', 'api_calls', 1000000000000, 'month'),
    ('bench_hot', 'api_calls', 1, 'month'),
    ('bench_1000', 'api_calls', ${NAIVE_QUOTA}, 'month');
`

const BENCH_TABLES = `
  create table public.bench_ceiling (key int primary key, used bigint not null, quota bigint not null);
  insert into public.bench_ceiling (key, used, quota)
    select g, 0, 1000000000000 from generate_series(1, ${CEILING_ROWS}) g;
  -- For the ceiling inside the RPC framing, which runs as authenticated.
  grant select, update on public.bench_ceiling to authenticated;
  -- The read limit (issue 17): as many rows per key as the usage view answers a free user (one per
  -- metric of the free plan), read by key from a plain table.
  create table public.bench_ceiling_rows (
    key int not null, metric text not null, used bigint not null, quota bigint not null,
    primary key (key, metric));
  insert into public.bench_ceiling_rows (key, metric, used, quota)
    select g, l.metric, 0, l.quota
    from generate_series(1, ${CEILING_ROWS}) g cross join tollgate.plan_limits l
    where l.plan_id = 'free';
  grant select on public.bench_ceiling_rows to authenticated;
  create table public.bench_naive_usage (
    id bigint generated always as identity primary key,
    user_id uuid not null,
    amount bigint not null,
    created_at timestamptz not null default now()
  );
  create index bench_naive_usage_user_id_idx on public.bench_naive_usage (user_id);
`

const subscribe = (sql: postgres.Sql, userId: string, planId: string) => sql`
  insert into tollgate.subscriptions (
    user_id, plan_id, status, provider, current_period_start, current_period_end
  ) values (${userId}::uuid, ${planId}, 'active', 'internal', now(), now() + interval '30 days')`

/** A durable throwaway cluster with Tollgate's bootstrap, migrations and seed. */
export type SchemaDatabase = Pick<BenchDatabase, 'cluster' | 'ownerUrl' | 'superUrl' | 'stop'>

/** Starts a durable throwaway Postgres 15 holding the schema and the seed, nothing else. */
export const createSchemaDatabase = async (): Promise<SchemaDatabase> => {
  const cluster = await startCluster({ durable: true })
  try {
    await cluster.createDatabase(DATABASE)
    const superUrl = cluster.url(DATABASE, 'supabase_admin')
    const ownerUrl = cluster.url(DATABASE)
    await withSql(superUrl, (sql) => applyBootstrap(sql))
    await withSql(ownerUrl, async (sql) => {
      await applyMigrations(sql)
      await applySeed(sql)
    })
    return { cluster, ownerUrl, superUrl, stop: cluster.stop }
  } catch (error) {
    await cluster.stop()
    throw error
  }
}

/** Starts a durable throwaway Postgres 15 with schema, seed, 10,000 users and the bench tables. */
export const createBenchDatabase = async (log: (line: string) => void): Promise<BenchDatabase> => {
  const started = process.hrtime.bigint()
  const { cluster, ownerUrl, superUrl } = await createSchemaDatabase()
  try {
    const apiUrl = cluster.url(DATABASE, 'authenticator')
    const { users, creditUsers, special } = await withSql(ownerUrl, async (sql) => {
      log(`schema and seed loaded; creating ${POOL_USERS} users`)
      const pool = await insertUsers(sql, 'bench-', POOL_USERS)
      const named = await insertUsers(sql, 'bench-special-', 5)
      const creditUsers = await insertUsers(sql, 'bench-credit-', CREDIT_USERS)
      await sql.begin((tx) => tx.unsafe(BENCH_PLANS + BENCH_TABLES))
      const special: SpecialUsers = {
        hotWarm: only(named, 0),
        hotMeasured: only(named, 1),
        quotaWarm: only(named, 2),
        quotaAt8: only(named, 3),
        quotaAt32: only(named, 4),
        naiveWarm: randomUUID(),
        naiveAt8: randomUUID(),
        naiveAt32: randomUUID(),
      }
      await subscribe(sql, special.hotWarm.id, 'bench_big')
      await subscribe(sql, special.hotMeasured.id, 'bench_hot')
      for (const user of [special.quotaWarm, special.quotaAt8, special.quotaAt32]) {
        await subscribe(sql, user.id, 'bench_1000')
      }
      // Steady state: every user already has this period's counters, as after a first call.
      await sql`
        select tollgate_private.sync_usage_counters(u.id, now())
        from auth.users u
        where u.email like 'bench-%'`
      // The credit holders: their quota spent by one consume (counter and ledger agree), then a
      // large grant each (through grant_credits, as a purchase or an admin would), so every
      // measured call draws credits.
      await sql`
        select tollgate_private.consume_usage(u.id, ${METRIC}, c.quota, null, now())
        from auth.users u
        join tollgate_private.usage_counters c on c.user_id = u.id and c.metric = ${METRIC}
        where u.email like 'bench-credit-%'`
      await sql`
        select tollgate_private.grant_credits(u.id, ${METRIC}, ${CREDIT_GRANT}::bigint, null, 'admin',
          null, 'bench')
        from auth.users u
        where u.email like 'bench-credit-%'`
      // Steady state of the credits hint too: a new counter starts with it set and a consume
      // deciding on the locked row (first of a period) clears it when the user holds no credits.
      await sql`
        update tollgate_private.usage_counters c set may_have_credits = false
        where not exists (
          select from tollgate.credit_balances g
          where g.user_id = c.user_id and g.metric = c.metric and g.remaining > 0)`
      return { users: pool, creditUsers, special }
    })
    await withSql(superUrl, async (sql) => {
      await sql`vacuum analyze`
      await sql`checkpoint`
    })
    const setupSeconds = Number(process.hrtime.bigint() - started) / 1e9
    return {
      cluster,
      ownerUrl,
      apiUrl,
      superUrl,
      users,
      creditUsers,
      special,
      setupSeconds,
      stop: cluster.stop,
    }
  } catch (error) {
    await cluster.stop()
    throw error
  }
}

/** Runs `fn` on a fresh single connection to `url`. */
export const onConnection = withSql
