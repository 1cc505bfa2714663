import { tablesMentioning } from '../helpers/forgotten.ts'
import type { InvariantName } from './config.ts'
import { addMonthsUtc, billingOf, razorpayChain, stripeSubscriptionsOf, type World } from './world.ts'

const monthsFrom = (anchor: number): number[] =>
  Array.from({ length: 40 }, (_, k) => addMonthsUtc(anchor, k - 4))

/** A broken money rule: which one, and what the system and the model said. */
export class InvariantViolation extends Error {
  readonly invariant: InvariantName
  constructor(invariant: InvariantName, message: string, log: string[]) {
    super(`[${invariant}] ${message}\nsteps of this run:\n${log.join('\n')}`)
    this.invariant = invariant
  }
}

type Check = (w: World) => Promise<string | null>

const quiescent = (w: World): boolean => w.queue.length === 0

/**
 * The plan Tollgate grants at the model time (tollgate_private.entitlement) is what the provider
 * bills: the fake Stripe's live subscription price (past_due: only for the grace after the failed
 * renewal), or the Razorpay paid period running now (a later payment queues after the running
 * one; within the grace after a paid period, that plan or free). Judged once every delivery the
 * providers owe has arrived: before that Tollgate cannot know.
 */

/**
 * What Tollgate flagged for an operator, as the issue allows instead of acting at the provider: a
 * Razorpay payment held (paid while another paid plan runs: refund or grant it) and coupon uses
 * recorded as overruns (a discounted checkout paid past the coupon's limits). Visible, audited,
 * never silent: the rules below count them apart instead of as a second plan or a hidden use.
 */
const heldOrdersOf = async (w: World): Promise<Set<string>> => {
  const ids = w.users.map((u) => u.caller.id)
  const rows = await w.sys.sql<{ id: string }[]>`
    select r.provider_id as id from tollgate_private.provider_refs r
    where r.provider = 'razorpay' and r.object_type = 'order' and r.details ->> 'state' = 'held'
      and r.user_id = any(${ids}::uuid[])`
  return new Set(rows.map((r) => r.id))
}

const overrunsOf = async (w: World): Promise<{ user_id: string; coupon_code: string }[]> => {
  const ids = w.users.map((u) => u.caller.id)
  return w.sys.sql<{ user_id: string; coupon_code: string }[]>`
    select user_id::text, coupon_code from tollgate_private.coupon_redemptions
    where status = 'overrun' and user_id = any(${ids}::uuid[])`
}

const grantedPlanEqualsBilledPlan: Check = async (w) => {
  if (!quiescent(w)) return null
  const at = w.sys.now()
  const held = await heldOrdersOf(w)
  for (const user of w.users) {
    // A deleted account has no plan; deletedUsersLeaveOnlyTheMoneyTrail judges it.
    if (user.deleted) continue
    const billing = billingOf(w, user, at, held)
    // Two billed at once is the next rule's finding; the plan then has no single right answer.
    if (billing.billed.length > 1) continue
    const [row] = await w.sys.sql<{ plan_id: string }[]>`
      select plan_id from tollgate_private.entitlement(${user.caller.id}::uuid, to_timestamp(${at}))`
    const granted = row?.plan_id ?? 'none'
    if (!billing.acceptable.includes(granted)) {
      return `${user.name}: Tollgate grants ${granted}, the provider bills ${
        billing.billed.map((b) => `${b.provider} ${b.plan} (${b.ref})`).join(', ') || 'nothing'
      } (acceptable: ${billing.acceptable.join(' or ')})`
    }
  }
  return null
}

/** At most one subscription per user is billed at the providers (after every delivery arrived). */
const atMostOneBilledSubscription: Check = async (w) => {
  if (!quiescent(w)) return null
  const at = w.sys.now()
  const held = await heldOrdersOf(w)
  for (const user of w.users) {
    if (user.deleted) continue
    const { billed } = billingOf(w, user, at, held)
    if (billed.length > 1) {
      return `${user.name} is billed ${billed.length} times: ${billed
        .map((b) => `${b.provider} ${b.plan} (${b.ref})`)
        .join(', ')}`
    }
  }
  return null
}

type CounterRow = {
  user_id: string
  metric: string
  period: string
  period_start: string
  period_start_unix: number
  period_end_unix: number | null
  used: string
  quota: string
  base_quota: string
  ledger: string
}

const countersOf = (w: World): Promise<CounterRow[]> =>
  w.sys.sql<CounterRow[]>`
    select c.user_id::text, c.metric, c.period, c.period_start::text,
      extract(epoch from c.period_start)::float8 as period_start_unix,
      extract(epoch from c.period_end)::float8 as period_end_unix, c.used::text, c.quota::text,
      c.base_quota::text,
      coalesce((select sum(e.amount - e.credits) from tollgate_private.usage_events e
        where e.user_id = c.user_id and e.metric = c.metric and e.allowed
          and e.period_start = c.period_start), 0)::text as ledger
    from tollgate_private.usage_counters c
    where c.user_id = any(${w.users.map((u) => u.caller.id)}::uuid[])
    order by 1, 2`

const nameOf = (w: World, id: string): string =>
  w.users.find((u) => u.caller.id === id)?.name ?? id

/**
 * Within one counter period (same period_start) a user never consumes more than the largest base
 * quota they held in it plus the carry-over the period started with (quota - base at its start).
 * A plan change that keeps the billing period brings no new carry-over (issue 11, defect 1).
 */
const consumptionWithinLargestQuotaOfThePeriod = (rows: CounterRow[], w: World): string | null => {
  // Every row's account is updated, even after a finding: the accounts follow every step.
  let found: string | null = null
  for (const row of rows) {
    if (row.period === 'never') continue
    const key = `${row.user_id}|${row.metric}|${row.period_start}`
    const quota = BigInt(row.quota)
    const base = BigInt(row.base_quota)
    let account = w.periods.get(key)
    if (!account) {
      account = {
        consumed: 0n,
        maxBase: base,
        carryIn: quota === -1n || base === -1n ? 0n : quota - base,
        unlimited: false,
      }
      w.periods.set(key, account)
    }
    if (base > account.maxBase) account.maxBase = base
    if (quota === -1n || base === -1n) account.unlimited = true
    account.consumed += w.stepConsumed.get(`${row.user_id}|${row.metric}`) ?? 0n
    // An admin's reset gives the period's count back: that much may be consumed again.
    account.consumed -= w.stepReset.get(`${row.user_id}|${row.metric}`) ?? 0n
    const allowance = account.maxBase + account.carryIn
    if (found === null && !account.unlimited && account.consumed > allowance) {
      found = `${nameOf(w, row.user_id)} consumed ${account.consumed} ${row.metric} in the period from ${
        row.period_start
      }; the most it held was ${account.maxBase} + carry-over ${account.carryIn} = ${allowance} (counter now used ${
        row.used
      } of quota ${row.quota})`
    }
  }
  return found
}

/**
 * A counter's used never goes down inside one period; a gauge only by what was released, a
 * resetting metric only by what an admin's reset gave back.
 */
const usedNeverDecreasesInsideAPeriod = (rows: CounterRow[], w: World): string | null => {
  for (const row of rows) {
    const previous = w.counters.get(`${row.user_id}|${row.metric}`)
    if (!previous || previous.periodStart !== row.period_start) continue
    const released = w.stepReleased.get(`${row.user_id}|${row.metric}`) ?? 0n
    const reset = w.stepReset.get(`${row.user_id}|${row.metric}`) ?? 0n
    const floor = row.period === 'never' ? previous.used - released : previous.used - reset
    if (BigInt(row.used) < floor) {
      return `${nameOf(w, row.user_id)} ${row.metric}: used went from ${previous.used} to ${
        row.used
      } inside the period from ${row.period_start} (quota ${previous.quota} → ${row.quota})`
    }
  }
  return null
}

/**
 * Quota months follow paid months: the counter period running at the model time starts at a
 * boundary of what was paid: a Stripe subscription's billing_cycle_anchor plus whole months, the
 * start of a Razorpay paid period, or (free) a calendar month, once no delivery is owed. (A period the model clock has
 * already left is not judged: after a clock jump the trigger may sync at real time, see system.ts.)
 */
const quotaPeriodsFollowPaidPeriods = (
  rows: CounterRow[],
  w: World,
  held: ReadonlySet<string>,
): string | null => {
  // Judged once no delivery is owed: before that Tollgate cannot know of a new billing cycle.
  if (!quiescent(w)) return null
  const at = w.sys.now()
  for (const row of rows) {
    if (row.period !== 'month' || row.period_end_unix === null) continue
    const start = Math.round(row.period_start_unix)
    if (!(start <= at && at < row.period_end_unix)) continue
    const user = w.users.find((u) => u.caller.id === row.user_id)
    if (!user) continue
    const d = new Date(start * 1000)
    if (d.getUTCDate() === 1 && d.getUTCHours() + d.getUTCMinutes() + d.getUTCSeconds() === 0) continue
    // verify-payment stamps the payment when it arrives (seconds after the capture, at offset 0).
    const chain = razorpayChain(user, held)
    if (chain.some((p) => p.start <= start && start <= p.start + 120)) continue
    const anchors = stripeSubscriptionsOf(w, user).map((sub) => Number(sub.billing_cycle_anchor))
    if (anchors.some((anchor) => monthsFrom(anchor).includes(start))) continue
    return `${user.name} ${row.metric}: the running counter period starts ${row.period_start}, which is no paid period's start (Razorpay paid periods: ${
      chain.map((p) => `${p.plan} ${new Date(p.start * 1000).toISOString()}`).join(', ') || 'none'
    }; Stripe anchors: ${anchors.map((a) => new Date(a * 1000).toISOString()).join(', ') || 'none'})`
  }
  return null
}

/** Every running counter's used equals the ledger (usage_events, less what credits paid) of its current period. */
const counterEqualsItsLedger = (rows: CounterRow[], w: World): string | null => {
  const at = w.sys.now()
  for (const row of rows) {
    // A period the model clock has left rolls at its next use (after a jump the trigger may even
    // have synced the counter into one, at real time: see system.ts); its count is not judged.
    if (row.period_end_unix !== null && row.period_end_unix <= at) continue
    if (row.used !== row.ledger) {
      return `${nameOf(w, row.user_id)} ${row.metric}: counter used ${row.used}, ledger of the period from ${
        row.period_start
      } sums ${row.ledger}`
    }
  }
  return null
}

/**
 * Credits are never overdrawn: per user and metric, what the ledger says credits paid plus what
 * refunds took back plus what remains is exactly what was granted; no grant is below 0 or above
 * what it granted.
 */
const creditsNeverOverdrawn: Check = async (w) => {
  const rows = await w.sys.sql<
    { user_id: string; metric: string; granted: string; remaining: string; bad: number; drawn: string }[]
  >`
    select g.user_id::text, g.metric, sum(g.granted)::text as granted, sum(g.remaining)::text as remaining,
      count(*) filter (where g.remaining < 0 or g.remaining > g.granted)::int as bad,
      coalesce((select sum(e.credits) from tollgate_private.usage_events e
        where e.user_id = g.user_id and e.metric = g.metric and e.allowed), 0)::text as drawn
    from tollgate.credit_balances g
    where g.user_id = any(${w.users.map((u) => u.caller.id)}::uuid[])
    group by g.user_id, g.metric`
  for (const row of rows) {
    const revoked = w.creditsRevoked.get(`${row.user_id}|${row.metric}`) ?? 0n
    const [granted, remaining, drawn] = [BigInt(row.granted), BigInt(row.remaining), BigInt(row.drawn)]
    if (row.bad > 0 || drawn + revoked + remaining !== granted) {
      return `${nameOf(w, row.user_id)} ${row.metric}: granted ${granted}, drawn ${drawn} (ledger), revoked ${revoked}, remaining ${remaining}${
        row.bad > 0 ? `, ${row.bad} grants out of 0..granted` : ''
      }`
    }
  }
  return null
}

const couponRows = (w: World) =>
  w.sys.sql<{ code: string; times_redeemed: number; max_uses: number | null; times_overrun: number }[]>`
    select code, times_redeemed, max_uses, times_overrun from tollgate_private.coupons
    where code = any(${[w.smallCoupon, 'WELCOME20', 'STUDENT50']})`

/**
 * Coupon uses never exceed max_uses (times_redeemed counts reserved and redeemed uses); the run's
 * own one-use coupon is never sold (a discounted payment taken) more often than max_uses, and,
 * once no delivery is owed, every discounted payment taken with it is counted: no hidden overrun.
 */
const couponUsesWithinMaxUses: Check = async (w) => {
  for (const row of await couponRows(w)) {
    if (row.max_uses !== null && row.times_redeemed > row.max_uses) {
      return `${row.code}: ${row.times_redeemed} uses counted, max_uses ${row.max_uses}`
    }
    if (row.code !== w.smallCoupon) continue
    const paid = w.discounted.filter((d) => d.coupon === row.code)
    // Once Tollgate heard of every payment (no delivery owed): each discounted payment taken is a
    // counted use or a recorded overrun (an order paid after its use went to someone else: the
    // provider took the money, Tollgate shows it to an operator), never more uses than max_uses.
    // The coupon's own count: a deleted user's redemption rows are gone, their overruns stay counted.
    const overruns = row.times_overrun
    if (quiescent(w) && paid.length > row.times_redeemed + overruns) {
      return `${row.code}: ${paid.length} discounted payments taken (${paid
        .map((d) => `${d.user} ${d.ref}`)
        .join(', ')}), ${row.times_redeemed} counted, ${overruns} recorded as overruns`
    }
  }
  return null
}

/** A coupon is once per account: a user never pays twice with one coupon's discount unless the second shows as an overrun. */
const couponOncePerAccount: Check = async (w) => {
  // Judged once every payment reached Tollgate: a second one must show as an overrun.
  if (!quiescent(w)) return null
  const overruns = await overrunsOf(w)
  const perUser = new Map<string, string[]>()
  for (const d of w.discounted) {
    const key = `${d.user} ${d.coupon}`
    perUser.set(key, [...(perUser.get(key) ?? []), d.ref])
  }
  for (const [key, refs] of perUser) {
    const [name, coupon] = key.split(' ')
    const owner = w.users.find((u) => u.name === name)
    // A deleted account's coupon uses went with it; only the coupon's counts remain.
    if (owner?.deleted) continue
    const id = owner?.caller.id
    const shown = overruns.filter((o) => o.user_id === id && o.coupon_code === coupon).length
    if (refs.length - shown > 1) {
      return `${key}: paid ${refs.length} times discounted (${refs.join(', ')})`
    }
  }
  return null
}

/**
 * Holding a payment for an operator is only for a payment that would replace another paid plan:
 * when a held order first shows, its user is on a paid plan, and on another plan than the order's
 * unless Stripe bills it (a Stripe subscription is never replaced by a one-off payment, whatever its
 * plan; a Razorpay period of the same plan is renewed, the payment queued after it). Else Tollgate
 * took money and granted nothing by mistake.
 */
const heldOnlyWhileAnotherPaidPlanRuns: Check = async (w) => {
  const ids = w.users.map((u) => u.caller.id)
  const held = await w.sys.sql<{ id: string; user_id: string; plan: string | null }[]>`
    select r.provider_id as id, r.user_id::text, r.details ->> 'plan_id' as plan
    from tollgate_private.provider_refs r
    where r.provider = 'razorpay' and r.object_type = 'order' and r.details ->> 'state' = 'held'
      and r.user_id = any(${ids}::uuid[])`
  for (const order of held) {
    if (w.seenHeld.has(order.id)) continue
    w.seenHeld.add(order.id)
    const [row] = await w.sys.sql<{ plan_id: string; provider: string | null }[]>`
      select e.plan_id, s.provider
      from tollgate_private.entitlement(${order.user_id}::uuid, to_timestamp(${w.sys.now()})) e
      left join tollgate.subscriptions s on s.id = e.subscription_id`
    const granted = row?.plan_id ?? 'none'
    if (granted === 'free' || (granted === order.plan && row?.provider !== 'stripe')) {
      return `${nameOf(w, order.user_id)}: order ${order.id} for ${order.plan} held while on ${granted}${
        row?.provider ? ` (${row.provider})` : ''
      }`
    }
  }
  return null
}

/** Tollgate's side, for the counterexample: the run's subscriptions and how each event was taken. */
const stateOf = async (w: World): Promise<string> => {
  const ids = w.users.map((u) => u.caller.id)
  const subs = await w.sys.sql<{ user_id: string; plan_id: string; status: string; provider: string; cancel: boolean; ref: string | null }[]>`
    select s.user_id::text, s.plan_id, s.status, s.provider, s.cancel_at_period_end as cancel,
      (select r.provider_id from tollgate_private.provider_refs r
        where r.local_id = s.id and r.object_type = 'subscription' limit 1) as ref
    from tollgate.subscriptions s where s.user_id = any(${ids}::uuid[]) order by s.created_at`
  const lines = subs.map(
    (s) => `  ${nameOf(w, s.user_id)} ${s.provider} ${s.plan_id} ${s.status}${s.cancel ? ' cancel_at_period_end' : ''} ${s.ref ?? ''}`,
  )
  const eventIds = w.delivered.flatMap((d) => (d.kind === 'stripe' ? [String(d.event.id)] : []))
  const events = await w.sys.sql<{ type: string; outcome: string | null; error: string | null }[]>`
    select type, outcome, error from tollgate_private.webhook_events
    where provider = 'stripe' and event_id = any(${eventIds}) order by received_at`
  const taken = events.map((e) => `  ${e.type}: ${e.outcome ?? 'failed'}${e.error ? ` (${e.error})` : ''}`)
  return `Tollgate's subscriptions of the run:\n${lines.join('\n') || '  none'}\nStripe events as Tollgate took them:\n${taken.join('\n') || '  none'}`
}

/**
 * What a user reads (usage_rows: the usage view, usage_of, entitlements, the export, metering)
 * at the model time is what the rule computes from their entitlement and counters
 * (usage_rows_by_rule), row for row, whether it came from the stored counters or not (issue 17:
 * the stored read trusts a counter until its period ends or its plan is due, as apply_usage does,
 * so this also checks that every step that changes an input of the rule refreshes the counters).
 * That a counter not due is on the entitled plan is judged at any model time; the rows themselves
 * only while no time jump has happened (see below): renewals, grace and expiry are not.
 */
const storedUsageIsTheRule = async (w: World): Promise<string | null> => {
  // At any model time: a counter not due (what apply_usage counts on without asking the rule) is
  // on the plan the user is entitled to. Its valid_until is absolute (the end of what is paid plus
  // the grace), so a counter synced at real now() after a jump is still judged rightly; an input
  // of the rule that changes without marking the counters due (the grace, a plan limit, a paid
  // invoice of a past_due subscription) shows here.
  const ids = w.users.map((u) => u.caller.id)
  const [wrongPlan] = await w.sys.sql<{ user_id: string; metric: string; plan_id: string; entitled: string; valid_until: string | null }[]>`
    select c.user_id::text, c.metric, c.plan_id, e.plan_id as entitled, c.valid_until::text
    from tollgate_private.usage_counters c
    cross join lateral tollgate_private.entitlement(c.user_id, to_timestamp(${w.sys.now()})) e
    where c.user_id = any(${ids}::uuid[])
      and (c.period_end is null or c.period_end > to_timestamp(${w.sys.now()}))
      and (c.valid_until is null or c.valid_until > to_timestamp(${w.sys.now()}))
      and c.plan_id <> e.plan_id
    limit 1`
  if (wrongPlan) {
    return `${nameOf(w, wrongPlan.user_id)}: the counter of ${wrongPlan.metric} is not due (valid until ${
      wrongPlan.valid_until ?? 'the subscription changes'
    }) and counts on ${wrongPlan.plan_id}, but the user is entitled to ${wrongPlan.entitled}`
  }
  // Judged while the model clock is real time (offset 0): after a jump, a subscription change
  // re-syncs counters at real now(), in the model clock's past (system.ts, THE CLOCK), and the
  // rule at the model time then starts a period the stored counter, synced "earlier", has not.
  if (w.sys.clock.offset !== 0) return null
  const at = w.sys.now()
  for (const user of w.users) {
    const [row] = await w.sys.sql<{ read: string; rule: string }[]>`
      select
        (select coalesce(jsonb_agg(to_jsonb(r) order by r.metric), '[]')
         from tollgate_private.usage_rows(${user.caller.id}::uuid, to_timestamp(${at})) r)::text as read,
        (select coalesce(jsonb_agg(to_jsonb(r) order by r.metric), '[]')
         from tollgate_private.usage_rows_by_rule(${user.caller.id}::uuid, to_timestamp(${at})) r)::text as rule`
    if (row && row.read !== row.rule) {
      return `${user.name}: usage_rows answered ${row.read}\nthe rule computes ${row.rule}`
    }
    // Counter by counter, as apply_usage's fast path trusts one: a counter not due at the model
    // time (period running, plan not due for a re-check) is the rule's row of its metric.
    const stale = await w.sys.sql<{ metric: string; stored: string; rule: string }[]>`
      select c.metric,
        jsonb_build_object('period', c.period, 'period_start', c.period_start,
          'period_end', c.period_end, 'used', c.used, 'quota', c.quota)::text as stored,
        jsonb_build_object('period', r.period, 'period_start', r.period_start,
          'period_end', r.period_end, 'used', r.used, 'quota', r.quota)::text as rule
      from tollgate_private.usage_counters c
      join tollgate_private.usage_rows_by_rule(${user.caller.id}::uuid, to_timestamp(${at})) r
        on r.metric = c.metric
      where c.user_id = ${user.caller.id}::uuid
        and (c.period_end is null or c.period_end > to_timestamp(${at}))
        and (c.valid_until is null or c.valid_until > to_timestamp(${at}))
        and (c.period, c.period_start, c.period_end, c.used, c.quota)
          is distinct from (r.period, r.period_start, r.period_end, r.used, r.quota)`
    const [first] = stale
    if (first) {
      return `${user.name}: the counter of ${first.metric} is not due, stored ${first.stored}\nthe rule computes ${first.rule}`
    }
  }
  return null
}

/**
 * The api_keys gauge counts exactly the user's live keys: each made key counted once, each revoked
 * key given back once (issue 16).
 */
const apiKeysCountLiveKeys = async (w: World): Promise<string | null> => {
  const ids = w.users.map((u) => u.caller.id)
  const [wrong] = await w.sys.sql<{ user_id: string; used: string; live: number }[]>`
    select u.id::text as user_id, coalesce(c.used, 0)::text as used,
      (select count(*)::int from tollgate.api_keys k where k.user_id = u.id and k.revoked_at is null) as live
    from unnest(${ids}::uuid[]) as u(id)
    left join tollgate_private.usage_counters c on c.user_id = u.id and c.metric = 'api_keys'
    where coalesce(c.used, 0) <> (select count(*) from tollgate.api_keys k where k.user_id = u.id and k.revoked_at is null)
    limit 1`
  if (!wrong) return null
  return `${nameOf(w, wrong.user_id)} api_keys: the gauge says ${wrong.used}, ${wrong.live} keys are live`
}

/**
 * A counter at or past 80 % of its quota has told its user (quota_warning, or quota_exhausted when
 * it jumped there at once), and one at 100 % quota_exhausted, for that metric and period: whatever
 * got it there, a consume crossing the line or a plan change lowering the quota (issue 13). Hourly
 * metrics are rate limits (requests): their 429 says it, they are never notified (issue 16).
 */
const quotaLinesAreNotified = async (w: World): Promise<string | null> => {
  const ids = w.users.map((u) => u.caller.id)
  const [missing] = await w.sys.sql<
    { user_id: string; metric: string; used: string; quota: string; period_start: string; kind: string }[]
  >`
    select c.user_id::text, c.metric, c.used::text, c.quota::text, c.period_start::text, m.kind
    from tollgate_private.usage_counters c
    cross join lateral (
      select case when c.used >= c.quota then 'quota_exhausted' else 'quota_warning' end as kind
    ) m
    where c.user_id = any(${ids}::uuid[])
      and c.quota > 0 and c.used >= c.quota - c.quota / 5 and c.period <> 'hour'
      and not exists (
        select from tollgate.notifications n
        where n.user_id = c.user_id
          and n.dedupe_key in (
            m.kind || ':' || c.metric || ':' || extract(epoch from c.period_start)::text,
            'quota_exhausted:' || c.metric || ':' || extract(epoch from c.period_start)::text))
    limit 1`
  if (!missing) return null
  return `${nameOf(w, missing.user_id)} ${missing.metric}: used ${missing.used} of ${missing.quota} in the period from ${missing.period_start} and was not notified (${missing.kind} missing)`
}

/**
 * A user who deleted their account (issue 16's data rights) is gone for good, whatever arrives
 * after: no row of any Tollgate table mentions what identified them (id, email, provider customer
 * ids; webhook events about them delivered later included), Stripe bills them nothing, and the
 * invoices Tollgate held of them are still there, without them.
 */
const deletedUsersLeaveOnlyTheMoneyTrail = async (w: World): Promise<string | null> => {
  for (const user of w.users) {
    if (!user.deleted) continue
    const [table] = await tablesMentioning(w.sys.sql, user.deleted.identifiers)
    if (table) return `${user.name} deleted their account, and ${table} still mentions them`
    const kept = await w.sys.sql<{ n: number }[]>`
      select count(*)::int as n from tollgate.invoices where id = any(${user.deleted.invoices}::uuid[])`
    if ((kept[0]?.n ?? 0) !== user.deleted.invoices.length) {
      return `${user.name} deleted their account: ${user.deleted.invoices.length} invoices were theirs, ${kept[0]?.n ?? 0} are left`
    }
    const billed = billingOf(w, user, w.sys.now()).billed.filter((b) => b.provider === 'stripe')
    if (billed.length > 0) {
      return `${user.name} deleted their account, and Stripe still bills ${billed.map((b) => `${b.plan} (${b.ref})`).join(', ')}`
    }
  }
  return null
}

/** Runs the enabled invariants; throws the first broken one, named. */
export const checkInvariants = async (w: World): Promise<void> => {
  const enabled = w.config.invariants
  const fail = async (name: InvariantName, message: string | null): Promise<void> => {
    if (message !== null && enabled.has(name)) {
      throw new InvariantViolation(name, `${message}\n${await stateOf(w)}`, w.log)
    }
  }
  if (enabled.has('grantedPlanEqualsBilledPlan')) {
    await fail('grantedPlanEqualsBilledPlan', await grantedPlanEqualsBilledPlan(w))
  }
  if (enabled.has('atMostOneBilledSubscription')) {
    await fail('atMostOneBilledSubscription', await atMostOneBilledSubscription(w))
  }
  if (enabled.has('couponUsesWithinMaxUses')) {
    await fail('couponUsesWithinMaxUses', await couponUsesWithinMaxUses(w))
  }
  if (enabled.has('heldOnlyWhileAnotherPaidPlanRuns')) {
    await fail('heldOnlyWhileAnotherPaidPlanRuns', await heldOnlyWhileAnotherPaidPlanRuns(w))
  }
  if (enabled.has('couponOncePerAccount')) {
    await fail('couponOncePerAccount', await couponOncePerAccount(w))
  }
  const rows = await countersOf(w)
  // The period accounts must follow every step, checked or not, so they are always updated.
  const overdraw = consumptionWithinLargestQuotaOfThePeriod(rows, w)
  const decrease = usedNeverDecreasesInsideAPeriod(rows, w)
  for (const row of rows) {
    w.counters.set(`${row.user_id}|${row.metric}`, {
      period: row.period,
      periodStart: row.period_start,
      used: BigInt(row.used),
      quota: BigInt(row.quota),
      baseQuota: BigInt(row.base_quota),
    })
  }
  await fail('consumptionWithinLargestQuotaOfThePeriod', overdraw)
  await fail('usedNeverDecreasesInsideAPeriod', decrease)
  await fail('quotaPeriodsFollowPaidPeriods', quotaPeriodsFollowPaidPeriods(rows, w, await heldOrdersOf(w)))
  await fail('counterEqualsItsLedger', counterEqualsItsLedger(rows, w))
  if (enabled.has('quotaLinesAreNotified')) {
    await fail('quotaLinesAreNotified', await quotaLinesAreNotified(w))
  }
  if (enabled.has('storedUsageIsTheRule')) {
    await fail('storedUsageIsTheRule', await storedUsageIsTheRule(w))
  }
  if (enabled.has('deletedUsersLeaveOnlyTheMoneyTrail')) {
    await fail('deletedUsersLeaveOnlyTheMoneyTrail', await deletedUsersLeaveOnlyTheMoneyTrail(w))
  }
  if (enabled.has('apiKeysCountLiveKeys')) {
    await fail('apiKeysCountLiveKeys', await apiKeysCountLiveKeys(w))
  }
  if (enabled.has('creditsNeverOverdrawn')) {
    await fail('creditsNeverOverdrawn', await creditsNeverOverdrawn(w))
  }
  for (const finding of w.stepFindings) await fail(finding.invariant, finding.message)
}
