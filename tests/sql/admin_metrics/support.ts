import { randomUUID } from 'node:crypto'
import type { Sql } from '../../helpers/db.ts'

export type Step = { daysAgo: number; plan_id?: string; status?: string }

/** A user in the scratch database (auth.users) and their id. */
export const addUser = async (sql: Sql): Promise<string> => {
  const id = randomUUID()
  await sql`insert into auth.users (id, email) values (${id}, ${`m-${id.slice(0, 8)}@example.test`})`
  return id
}

/**
 * A subscription whose history is `steps`: created with the first step's plan and status, then
 * changed at each later step; each audit row is moved back to its step's moment (days ago), as if
 * it had happened then. Returns the subscription id.
 */
export const subscriptionWithHistory = async (
  sql: Sql,
  userId: string,
  provider: string,
  first: Required<Step> & { cancel_at_period_end?: boolean },
  ...later: Step[]
): Promise<string> => {
  const [row] = await sql<{ id: string }[]>`
    insert into tollgate.subscriptions (user_id, plan_id, status, provider, current_period_start,
      current_period_end, cancel_at_period_end)
    values (${userId}, ${first.plan_id}, ${first.status}, ${provider}, now() - interval '10 days',
      now() + interval '20 days', ${first.cancel_at_period_end ?? false})
    returning id`
  const id = row!.id
  await backdateLatest(sql, id, first.daysAgo)
  for (const step of later) {
    await sql`
      update tollgate.subscriptions
      set plan_id = coalesce(${step.plan_id ?? null}, plan_id), status = coalesce(${step.status ?? null}, status)
      where id = ${id}`
    await backdateLatest(sql, id, step.daysAgo)
  }
  return id
}

const backdateLatest = async (sql: Sql, recordId: string, daysAgo: number): Promise<void> => {
  await sql`
    update tollgate_private.audit_log set occurred_at = now() - make_interval(days => ${daysAgo})
    where id = (select max(id) from tollgate_private.audit_log where record_id = ${recordId})`
}
