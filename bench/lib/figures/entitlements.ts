import { randomUUID } from 'node:crypto'
import { toFigure, type Figure } from '../measure.ts'
import type { Session } from '../session.ts'
import { EXTENDED, inFraming } from '../workloads.ts'

/** Rows of the app table both policies guard (issue 14: "a 100,000-row select"). */
export const POLICY_ROWS = 100_000

const TABLES = {
  open: 'public.bench_reports_open',
  feature: 'public.bench_reports_feature',
} as const

// What the app reads: every row of its table, as PostgREST runs `GET /<table>` for the user (the
// rows built into one JSON body in Postgres), with the row count beside it to check.
const statementOf = (table: string): string =>
  'with pgrst_source as (select t.* from ' + table + ' t) ' +
  "select count(_postgrest_t) as n, coalesce(json_agg(_postgrest_t), '[]')::text as body " +
  'from (select * from pgrst_source) _postgrest_t'

/** The same select with the policy README shows (has_feature) and with a policy that lets all through. */
export type PolicyFigures = { open: Figure; feature: Figure; ratio: number }

/** Builds both tables (same rows, one policy each) and a pro subscriber whose plan has `export`. */
const setUp = async (session: Session): Promise<string> => {
  const sql = session.ownerSql
  for (const [name, table] of Object.entries(TABLES)) {
    await sql.unsafe(`
      create table ${table} (id int primary key, body text not null);
      insert into ${table} select g, 'report ' || g from generate_series(1, ${POLICY_ROWS}) g;
      alter table ${table} enable row level security;
      grant select on ${table} to authenticated;
      create policy "${name}" on ${table} for select to authenticated
        using (${name === 'feature' ? "(select tollgate.has_feature('export'))" : 'true'});
      analyze ${table};`)
  }
  const id = randomUUID()
  await sql`insert into auth.users (id, email, aud, role) values (${id}, ${`pro-${id.slice(0, 8)}@bench.test`}, 'authenticated', 'authenticated')`
  await sql`
    insert into tollgate.subscriptions (user_id, plan_id, status, provider, current_period_start, current_period_end)
    values (${id}, 'pro', 'active', 'internal', now(), now() + interval '1 year')`
  return JSON.stringify({ sub: id, role: 'authenticated', aud: 'authenticated' })
}

/**
 * 7: an app's own table read whole by a pro subscriber as PostgREST reads it, guarded by
 * `(select tollgate.has_feature('export'))` against the same table guarded by `true`, one
 * connection, in turns. The ratio is what the entitlement check costs such a read (issue 14: under
 * 10 %). Without the `(select ...)` the check runs once per row: 200 times slower (bench/NOTES.md).
 */
export const measurePolicies = async (session: Session): Promise<PolicyFigures> => {
  const claims = await setUp(session)
  const [open, feature] = await session.inTurns(
    (['open', 'feature'] as const).map((name) => ({
      label: `${POLICY_ROWS.toLocaleString('en')}-row select, policy ${name === 'feature' ? '(select has_feature(...))' : 'true'}`,
      url: session.database.apiUrl,
      make: (connection) => async () => {
        const rows = await inFraming<{ n: string }>(connection, claims, statementOf(TABLES[name]), [], {
          readOnly: true,
          query: EXTENDED,
        })
        if (rows[0]?.n !== String(POLICY_ROWS)) {
          throw new Error(`${TABLES[name]}: ${rows[0]?.n} rows seen, expected ${POLICY_ROWS}`)
        }
        return true
      },
    })),
    1,
  )
  if (!open || !feature) throw new Error('policy figures missing')
  // A free user sees nothing through the feature policy: the check the figure relies on works.
  const [free] = session.database.users
  if (free) {
    const rows = await session.ownerSql.begin(async (tx) => {
      await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${free.claims}, true)`
      return tx.unsafe(`select count(*) as n from ${TABLES.feature}`)
    })
    session.check('has_feature policy hides the rows from a free user', String(rows[0]?.n) === '0', `saw ${rows[0]?.n}`)
  }
  const openFigure = toFigure(open)
  const featureFigure = toFigure(feature)
  return { open: openFigure, feature: featureFigure, ratio: featureFigure.tps / openFigure.tps }
}
