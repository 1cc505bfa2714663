import type { Sql, TestUser } from '../../helpers/db.ts'

/** Commits a live internal subscription of `planId` for the user (a month from now). */
export const subscribe = async (
  sql: Sql,
  user: TestUser,
  planId: string,
  status = 'active',
): Promise<string> => {
  const [row] = await sql<{ id: string }[]>`
    insert into tollgate.subscriptions (user_id, plan_id, status, provider, current_period_start, current_period_end)
    values (${user.id}, ${planId}, ${status}, 'internal', now(), now() + interval '1 month')
    returning id`
  return row!.id
}
