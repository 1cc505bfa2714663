import { toFigure, type Figure } from '../measure.ts'
import type { Session } from '../session.ts'
import { framedReadCeilingCall, framedReadRowsLimitCall, pick, usageCall } from '../workloads.ts'

const READ_LEVELS = [8, 1] as const

/**
 * The usage view's reads and, beside them, one row by key in the same read framing (the ceiling
 * of the target) and the view's number of rows by key from a plain table (the limit: no rule).
 */
export type Reads = { reads: Figure[]; readCeiling: Figure[]; readRowsLimit: Figure[] }

/** 6: the usage view as PostgREST reads it, next to one row by key in the same framing. */
export const measureReads = async (session: Session): Promise<Reads> => {
  const { database } = session
  const reads: Figure[] = []
  const readCeiling: Figure[] = []
  const readRowsLimit: Figure[] = []
  // A free user's rows: one per metric of the free plan (five since issue 16).
  const [free] = await session.ownerSql<{ n: number }[]>`
    select count(*)::int as n from tollgate.plan_limits where plan_id = 'free'`
  const freeMetrics = free?.n ?? 0
  // Steady state, as pg_cron's maintenance keeps it (every 5 minutes): the periods that ended
  // since the load (the hourly metric's, when an hour has turned) are rolled, so the view reads
  // the stored counters as it does between such turns. Right after one, until maintenance or a
  // consume rolls them, it computes them by the rule (usage_rows_by_rule).
  await session.ownerSql.unsafe('call tollgate_private.maintain()')
  for (const connections of READ_LEVELS) {
    readCeiling.push(
      toFigure(
        await session.figure(
          'read ceiling (one row by key, framed)',
          database.apiUrl,
          connections,
          (connection) => framedReadCeilingCall(connection, () => pick(database.users)),
        ),
      ),
    )
    readRowsLimit.push(
      toFigure(
        await session.figure(
          `read limit (${freeMetrics} rows by key, framed)`,
          database.apiUrl,
          connections,
          (connection) => framedReadRowsLimitCall(connection, () => pick(database.users), freeMetrics),
        ),
      ),
    )
    reads.push(
      toFigure(
        await session.figure('usage view (read)', database.apiUrl, connections, (connection) =>
          usageCall(connection, () => pick(database.users), freeMetrics),
        ),
      ),
    )
  }
  return { reads, readCeiling, readRowsLimit }
}
