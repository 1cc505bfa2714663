import { NAIVE_QUOTA } from '../database.ts'
import { toFigure } from '../measure.ts'
import { checkOurs, num, oursHot, type Session } from '../session.ts'
import type { NaiveRow } from '../types.ts'
import { consumeCall, naiveCall } from '../workloads.ts'

const NAIVE_LEVELS = [8, 32] as const

/** 4: the naive read-sum-then-insert next to ours, one user with quota 1,000. */
export const measureNaive = async (session: Session): Promise<NaiveRow[]> => {
  const { database, ownerSql } = session
  const { special } = database
  const naive: NaiveRow[] = []
  for (const connections of NAIVE_LEVELS) {
    const naiveUser = connections === 8 ? special.naiveAt8 : special.naiveAt32
    const naiveStats = await session.figure(
      'naive read-sum-then-insert',
      database.ownerUrl,
      connections,
      (connection, phase) =>
        naiveCall(connection, phase === 'warmup' ? special.naiveWarm : naiveUser),
    )
    const [sumRow] = await ownerSql<{ sum: string }[]>`
      select coalesce(sum(amount), 0) as sum from public.bench_naive_usage
      where user_id = ${naiveUser}::uuid`
    const sum = num(sumRow?.sum)
    const oursUser = connections === 8 ? special.quotaAt8 : special.quotaAt32
    const oursStats = await session.figure(
      'consume_usage (one user, quota 1,000)',
      database.apiUrl,
      connections,
      (connection, phase) =>
        consumeCall(connection, () => (phase === 'warmup' ? special.quotaWarm : oursUser)),
    )
    const ours = oursHot(oursStats, await session.counterOf(oursUser))
    checkOurs(session, `one user, quota 1,000 @${connections}`, ours)
    naive.push({
      connections,
      naive: { ...toFigure(naiveStats), sum, overdraw: Math.max(0, sum - NAIVE_QUOTA) },
      ours,
    })
  }
  return naive
}
