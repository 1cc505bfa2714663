import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { userClaims } from '../../helpers/db.ts'
import {
  beginSession,
  counterOf,
  taggedPool,
  testUsers,
  waitUntilBlocked,
  type Session,
} from '../consume_usage/support.ts'
import { appSchemaName } from './app_table.ts'

// The lock order of two writers of one user's counters: the row-quota trigger counts rows in
// statement order, the subscription sync (sync_usage_counters) locks every counter in metric
// order (api_calls, projects, storage_gb). An app transaction that counts storage_gb, then
// projects, while a plan change syncs the same user must not deadlock (REVIEW L-1).

const { sql } = taggedPool(6)
const users = testUsers(sql)
const userIds: string[] = []
const schema = appSchemaName()

beforeAll(async () => {
  // Two tables of an app, each counted against one gauge of its owner.
  await sql.begin((tx) =>
    tx.unsafe(`
      create schema ${schema};
      grant usage on schema ${schema} to authenticated;
      create table ${schema}.files (
        id uuid primary key default gen_random_uuid(),
        user_id uuid not null references auth.users (id)
      );
      create table ${schema}.projects (
        id uuid primary key default gen_random_uuid(),
        user_id uuid not null references auth.users (id)
      );
      alter table ${schema}.files enable row level security;
      alter table ${schema}.projects enable row level security;
      create policy "Users create their files" on ${schema}.files
        for insert to authenticated with check (user_id = (select auth.uid()));
      create policy "Users create their projects" on ${schema}.projects
        for insert to authenticated with check (user_id = (select auth.uid()));
      grant insert (user_id) on ${schema}.files, ${schema}.projects to authenticated;
      create trigger _500_enforce_storage_quota
        after insert or delete or update of user_id on ${schema}.files
        for each row
        execute function tollgate_private.tg__enforce_row_quota('storage_gb', 'user_id');
      create trigger _500_enforce_projects_quota
        after insert or delete or update of user_id on ${schema}.projects
        for each row execute function tollgate_private.tg__enforce_row_quota('projects', 'user_id');
    `),
  )
})

afterAll(async () => {
  // Subscriptions first: their delete trigger re-syncs the counters of a user that must exist.
  await sql`delete from tollgate.subscriptions where user_id = any(${userIds}::uuid[])`
  await sql.unsafe(`drop schema if exists ${schema} cascade`)
  await users.drop()
  await sql.end()
})

const becomeUser = (session: Session, userId: string) =>
  session.q`
    select
      pg_catalog.set_config('role', 'authenticated', true),
      pg_catalog.set_config('request.jwt.claims', ${JSON.stringify(userClaims(userId))}, true)`

// Settles to the error (a deadlock is 40P01) or 'ok'.
const outcome = (work: Promise<unknown>): Promise<string> =>
  work.then(
    () => 'ok',
    (error: { code?: string }) => error.code ?? String(error),
  )

describe('an app transaction counting storage_gb then projects while the plan changes', () => {
  it('finishes, and so does the plan change, each after the other', async () => {
    const user = await users.create()
    userIds.push(user.id)
    // A pro subscriber: the sync made a counter for each of the plan's metrics.
    const [subscription] = await sql<{ id: string }[]>`
      insert into tollgate.subscriptions (
        user_id, plan_id, status, provider, current_period_start, current_period_end
      ) values (${user.id}, 'pro', 'active', 'internal', now(), now() + interval '1 month')
      returning id::text`
    if (!subscription) throw new Error('no subscription')

    const app = await beginSession(sql)
    const billing = await beginSession(sql)
    const open = new Set([app, billing])
    const end = async (session: Session, how: 'commit' | 'rollback') => {
      open.delete(session)
      await session.end(how)
    }
    try {
      await becomeUser(app, user.id)
      // 1. The app counts a file (storage_gb) and keeps its transaction open.
      await app.q`insert into ${app.q(schema)}.files (user_id) values (${user.id})`
      // 2. The plan changes (a webhook applying an upgrade): its sync locks the counters in
      //    metric order and has to wait for the app.
      const planChange = outcome(billing.q`
        update tollgate.subscriptions set plan_id = 'enterprise' where id = ${subscription.id}`)
      await waitUntilBlocked(sql, billing.pid)
      // 3. The app counts a project. Locked in statement order, this waited for the sync, which
      //    waited for the app: one of the two was killed with 40P01.
      const project = await outcome(
        app.q`insert into ${app.q(schema)}.projects (user_id) values (${user.id})`,
      )
      expect(project).toBe('ok')
      await end(app, 'commit')
      expect(await planChange).toBe('ok')
      await end(billing, 'commit')
    } finally {
      for (const session of open) await session.end('rollback').catch(() => {})
    }

    // Both counted, on the plan the change moved the user to.
    expect(await counterOf(sql, user.id, 'storage_gb')).toMatchObject({
      plan_id: 'enterprise',
      used: 1,
      quota: 500,
    })
    expect(await counterOf(sql, user.id, 'projects')).toMatchObject({
      plan_id: 'enterprise',
      used: 1,
      quota: -1,
    })
  })
})
