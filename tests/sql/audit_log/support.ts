import type { Tx } from '../../helpers/db.ts'

/** A row of tollgate_private.audit_log as the tests read it. */
export type AuditRow = {
  table_name: string
  record_id: string
  user_id: string
  action: string
  old_values: { plan_id: string; status: string } | null
  new_values: { plan_id: string; status: string } | null
  actor_user_id: string | null
  actor_role: string
  reason: string | null
}

/** The audit rows of one subscription, oldest first, read as the owner. */
export const auditOf = async (tx: Tx, recordId: string): Promise<AuditRow[]> =>
  tx<AuditRow[]>`
    select table_name, record_id, user_id, action, old_values, new_values, actor_user_id,
      actor_role, reason
    from tollgate_private.audit_log
    where record_id = ${recordId}::uuid
    order by id`

/** The name of the session's own role (the owner), which the audit records when no JWT is set. */
export const ownerRole = async (tx: Tx): Promise<string> => {
  const [row] = await tx<{ role: string }[]>`select session_user::text as role`
  if (!row) throw new Error('no role')
  return row.role
}
