import type { Queryable } from '../../helpers/db.ts'
import { iso } from '../consume_usage/support.ts'

/** A period as [start, end) in UTC ISO form; end null for never. */
export type Window = { start: string | null; end: string | null }

/** tollgate_private.period_window(period, anchor, as_of) as ISO strings in UTC. */
export const windowOf = async (
  q: Queryable,
  period: string,
  anchor: string | null,
  asOf: string,
): Promise<Window> => {
  const [row] = await q<{ period_start: Date; period_end: Date | null }[]>`
    select period_start, period_end
    from tollgate_private.period_window(${period}::text, ${anchor}::text::timestamptz, ${asOf}::text::timestamptz)`
  if (!row) throw new Error('period_window returned no row')
  return { start: iso(row.period_start), end: iso(row.period_end) }
}

/** The window [start, end) written as two UTC moments. */
export const utc = (start: string, end: string | null): Window => ({
  start: new Date(start).toISOString(),
  end: end === null ? null : new Date(end).toISOString(),
})
