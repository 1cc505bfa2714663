import { METRIC } from './database.ts'
import type { Session } from './session.ts'

/**
 * Whole-database invariants after every figure: no counter overdrawn, each equals its ledger (less
 * what credits paid), and the credits drawn are exactly what the grants lost.
 */
export const checkInvariants = async (session: Session): Promise<void> => {
  const [invariants] = await session.ownerSql<{ overdrawn: number; mismatched: number }[]>`
    select
      count(*) filter (where c.quota <> -1 and c.used > c.quota)::int as overdrawn,
      count(*) filter (where c.used <> coalesce((
        select sum(e.amount - e.credits) from tollgate_private.usage_events e
        where e.user_id = c.user_id and e.metric = c.metric and e.period_start = c.period_start
      ), 0))::int as mismatched
    from tollgate_private.usage_counters c
    where c.metric = ${METRIC}`
  session.check(
    'all counters: none overdrawn',
    invariants?.overdrawn === 0,
    `${invariants?.overdrawn} overdrawn`,
  )
  session.check(
    'all counters: used equals the ledger',
    invariants?.mismatched === 0,
    `${invariants?.mismatched} differ`,
  )
  const [credits] = await session.ownerSql<{ drawn: string; lost: string; negative: number }[]>`
    select
      (select coalesce(sum(e.credits), 0) from tollgate_private.usage_events e
        where e.metric = ${METRIC})::text as drawn,
      (select coalesce(sum(g.granted - g.remaining), 0) from tollgate.credit_balances g
        where g.metric = ${METRIC})::text as lost,
      (select count(*) from tollgate.credit_balances g where g.remaining < 0)::int as negative`
  session.check(
    'credits: drawn (ledger) equals what the grants lost, none below zero',
    credits?.drawn === credits?.lost && credits?.negative === 0,
    `drawn ${credits?.drawn}, grants lost ${credits?.lost}, ${credits?.negative} negative`,
  )
}
