import type { Tx } from '../../helpers/db.ts'
import type { UsageAnswer } from '../subscriptions/support.ts'

/** tollgate.service_role_consume_usage as the current role. */
export const serviceConsume = async (
  tx: Tx,
  userId: string,
  metric: string,
  amount: number,
  key: string | null = null,
): Promise<UsageAnswer> => {
  const [row] = await tx<{ answer: UsageAnswer }[]>`
    select tollgate.service_role_consume_usage(
      ${userId}::uuid, ${metric}, ${amount}::bigint, ${key}::text) as answer`
  if (!row) throw new Error('no answer')
  return row.answer
}

/** tollgate.service_role_release_usage as the current role. */
export const serviceRelease = async (
  tx: Tx,
  userId: string,
  metric: string,
  amount: number | null,
  key: string | null = null,
): Promise<UsageAnswer> => {
  const [row] = await tx<{ answer: UsageAnswer }[]>`
    select tollgate.service_role_release_usage(
      ${userId}::uuid, ${metric}, ${amount}::bigint, ${key}::text) as answer`
  if (!row) throw new Error('no answer')
  return row.answer
}
