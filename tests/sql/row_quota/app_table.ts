import { randomUUID } from 'node:crypto'
import type { Queryable, Sql } from '../../helpers/db.ts'

/** An app's own table with a row quota, created committed for one test file. */
export type AppTable = {
  schema: string
  /** The schema-qualified name of the projects table. */
  projects: string
  drop: () => Promise<void>
}

/** A fresh schema of its own for DDL a test creates (committed or inside a rolled-back transaction). */
export const appSchemaName = (): string =>
  `app_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`

/**
 * Creates `app_test_<random>.projects` as an app would: users insert and delete their own rows
 * under RLS, and the trigger counts each row against the owner's `projects` quota.
 */
export const createAppTable = async (sql: Sql): Promise<AppTable> => {
  const schema = appSchemaName()
  const projects = `${schema}.projects`
  await sql.begin((tx) =>
    tx.unsafe(`
      create schema ${schema};
      grant usage on schema ${schema} to authenticated;
      create table ${projects} (
        id uuid primary key default gen_random_uuid(),
        user_id uuid not null references auth.users (id),
        name text
      );
      alter table ${projects} enable row level security;
      create policy "Users read their projects" on ${projects}
        for select to authenticated using (user_id = (select auth.uid()));
      create policy "Users create their projects" on ${projects}
        for insert to authenticated with check (user_id = (select auth.uid()));
      create policy "Users delete their projects" on ${projects}
        for delete to authenticated using (user_id = (select auth.uid()));
      grant select, delete on ${projects} to authenticated;
      grant insert (user_id, name) on ${projects} to authenticated;
      create trigger _500_enforce_projects_quota
        after insert or delete or update of user_id on ${projects}
        for each row execute function tollgate_private.tg__enforce_row_quota('projects', 'user_id');
    `),
  )
  return {
    schema,
    projects,
    drop: async () => {
      await sql.unsafe(`drop schema if exists ${schema} cascade`)
    },
  }
}

/** Inserts projects for a user in one statement, as the current role; returns how many. */
export const insertProjects = async (
  tx: Queryable,
  table: AppTable,
  userId: string,
  names: string[],
): Promise<number> => {
  const rows = names.map((name) => ({ user_id: userId, name }))
  const inserted = await tx`insert into ${tx(table.schema)}.projects ${tx(rows)} returning id`
  return inserted.length
}

/** The number of project rows of a user the current role can see. */
export const countProjects = async (
  tx: Queryable,
  table: AppTable,
  userId: string,
): Promise<number> => {
  const [row] = await tx<{ n: number }[]>`
    select count(*)::int as n from ${tx(table.schema)}.projects where user_id = ${userId}::uuid`
  return row?.n ?? -1
}

/** The projects row of the tollgate.usage view, as the current (signed-in) role sees it. */
export const projectsUsage = async (
  tx: Queryable,
): Promise<{ used: string; quota: string; remaining: string | null }> => {
  const [row] = await tx<{ used: string; quota: string; remaining: string | null }[]>`
    select used, quota, remaining from tollgate.usage where metric = 'projects'`
  if (!row) throw new Error('no projects usage')
  return row
}

/** The projects counter of a user, read as the owner. */
export const projectsCounter = async (
  tx: Queryable,
  userId: string,
): Promise<{ used: string; quota: string } | undefined> => {
  const [row] = await tx<{ used: string; quota: string }[]>`
    select used, quota from tollgate_private.usage_counters
    where user_id = ${userId}::uuid and metric = 'projects'`
  return row
}
