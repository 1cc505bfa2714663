import { METRIC } from './database.ts'
import type { Session } from './session.ts'

/** Whole-database invariants after every figure: no counter overdrawn, each equals its ledger. */
export const checkInvariants = async (session: Session): Promise<void> => {
  const [invariants] = await session.ownerSql<{ overdrawn: number; mismatched: number }[]>`
    select
      count(*) filter (where c.quota <> -1 and c.used > c.quota)::int as overdrawn,
      count(*) filter (where c.used <> coalesce((
        select sum(e.amount) from tollgate_private.usage_events e
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
}
