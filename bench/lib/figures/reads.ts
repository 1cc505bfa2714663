import { toFigure, type Figure } from '../measure.ts'
import type { Session } from '../session.ts'
import { framedReadCeilingCall, pick, usageCall } from '../workloads.ts'

const READ_LEVELS = [8, 1] as const

/** The usage view's reads and, beside them, one row by key in the same read framing. */
export type Reads = { reads: Figure[]; readCeiling: Figure[] }

/** 6: the usage view as PostgREST reads it, next to one row by key in the same framing. */
export const measureReads = async (session: Session): Promise<Reads> => {
  const { database } = session
  const reads: Figure[] = []
  const readCeiling: Figure[] = []
  // A free user's rows: one per metric of the free plan (five since issue 16).
  const [free] = await session.ownerSql<{ n: number }[]>`
    select count(*)::int as n from tollgate.plan_limits where plan_id = 'free'`
  const freeMetrics = free?.n ?? 0
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
    reads.push(
      toFigure(
        await session.figure('usage view (read)', database.apiUrl, connections, (connection) =>
          usageCall(connection, () => pick(database.users), freeMetrics),
        ),
      ),
    )
  }
  return { reads, readCeiling }
}
