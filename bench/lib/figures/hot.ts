import { CEILING_FRAMED_HOT_KEY, CEILING_HOT_KEY, CEILING_WARM_KEY, METRIC } from '../database.ts'
import { toFigure, type Figure } from '../measure.ts'
import { checkOurs, num, oursHot, phaseRatio, type Session } from '../session.ts'
import type { HotFigure, HotUserFigure } from '../types.ts'
import { ceilingCall, consumeCall, framedCeilingCall, pick } from '../workloads.ts'

const HOT_CONNECTIONS = 32

/** The hot-row ceiling (plain and framed) and the hot user, all with the same quota. */
export type Hot = {
  /** The quota Q every hot window crosses. */
  hotQuota: number
  ceilingHot: HotFigure
  ceilingFramedHot: Figure
  hotUser: HotUserFigure
}

/**
 * 1 (hot-row variant) and 3: one row / one user at 32 connections, with the same quota Q,
 * chosen from the ceiling's warm-up so that the ceiling crosses it about half-way.
 */
export const measureHot = async (session: Session): Promise<Hot> => {
  const { database, ownerSql, warnings } = session
  const { measureMs } = session.context
  let hotQuota = 0
  const ceilingHotStats = await session.figure(
    'ceiling (hot row)',
    database.ownerUrl,
    HOT_CONNECTIONS,
    (connection, phase) =>
      ceilingCall(connection, phase === 'warmup' ? CEILING_WARM_KEY : CEILING_HOT_KEY),
    async (warm) => {
      const rate = warm.allAllowed / warm.seconds
      hotQuota = Math.max(50, Math.round((rate * measureMs) / 1000 / 2))
      await ownerSql`
        update public.bench_ceiling set used = 0, quota = ${hotQuota} where key = ${CEILING_HOT_KEY}`
    },
  )
  const [hotRow] = await ownerSql<{ used: string; quota: string }[]>`
    select used, quota from public.bench_ceiling where key = ${CEILING_HOT_KEY}`
  const ceilingHot: HotFigure = {
    ...toFigure(ceilingHotStats),
    quota: num(hotRow?.quota),
    used: num(hotRow?.used),
    overdraw: Math.max(0, num(hotRow?.used) - num(hotRow?.quota)),
    allowedAnswers: ceilingHotStats.allAllowed,
    ledger: null,
  }
  if (ceilingHot.used !== ceilingHot.quota) {
    warnings.push(
      `ceiling hot row: quota ${ceilingHot.quota} not reached (used ${ceilingHot.used})`,
    )
  }

  const framedHotStats = await session.figure(
    'ceiling inside the RPC framing (hot row)',
    database.apiUrl,
    HOT_CONNECTIONS,
    (connection, phase) =>
      framedCeilingCall(
        connection,
        () => pick(database.users),
        phase === 'warmup' ? CEILING_WARM_KEY : CEILING_FRAMED_HOT_KEY,
      ),
    async () => {
      await ownerSql`
        update public.bench_ceiling set used = 0, quota = ${hotQuota}
        where key = ${CEILING_FRAMED_HOT_KEY}`
    },
  )
  const ceilingFramedHot = toFigure(framedHotStats)

  const { special } = database
  const hotStats = await session.figure(
    'consume_usage (hot user)',
    database.apiUrl,
    HOT_CONNECTIONS,
    (connection, phase) =>
      consumeCall(connection, () => (phase === 'warmup' ? special.hotWarm : special.hotMeasured)),
    async () => {
      // The limit edit marks the counter for a re-check; syncing applies it now, so the window
      // starts on the fast path with used 0 and quota Q.
      await ownerSql`
        update tollgate.plan_limits set quota = ${hotQuota}
        where plan_id = 'bench_hot' and metric = ${METRIC}`
      await ownerSql`select tollgate_private.sync_usage_counters(${special.hotMeasured.id}::uuid, now())`
      const start = await session.counterOf(special.hotMeasured)
      if (start.used !== 0 || start.quota !== hotQuota) {
        throw new Error(`hot user starts at used ${start.used}, quota ${start.quota}`)
      }
    },
  )
  const hot = oursHot(hotStats, await session.counterOf(special.hotMeasured))
  checkOurs(session, 'hot user', hot)
  const hotUser: HotUserFigure = {
    ...hot,
    ratio: hot.tps / ceilingHot.tps,
    allowedPhaseRatio: phaseRatio(hot.allowedPhaseTps, ceilingHot.allowedPhaseTps),
    refusedPhaseRatio: phaseRatio(hot.refusedPhaseTps, ceilingHot.refusedPhaseTps),
  }
  return { hotQuota, ceilingHot, ceilingFramedHot, hotUser }
}
