import { randomUUID } from 'node:crypto'
import type { Caller } from '../helpers/billing.ts'
import type { CheckoutResult } from '../helpers/fake-razorpay.ts'
import type { StripeJson } from '../helpers/stripe/events.ts'
import type { ModelConfig } from './config.ts'
import { eventIds, type System } from './system.ts'

/** What an admin may set past_due_grace to in a run (admin_set_grace), in hours. */
export const GRACE_HOURS = [0, 12, 72, 168] as const

/** Quotas an admin may give a plan's metric (admin_edit_limit), as a share of the seeded one; -1 = unlimited. */
export const LIMIT_EDITS = ['half', 'double', 'unlimited', 'remove', 'restore'] as const
/** The metrics an admin edits: the consumed one, a gauge and the keys' gauge. */
export const EDITED_METRICS = ['api_calls', 'projects', 'api_keys'] as const
/** The plans whose limits an admin edits (pro_trial copies pro's at the start). */
export const EDITED_PLANS = ['free', 'pro', 'enterprise', 'pro_trial'] as const

/** The seeded plans' prices, and what each Stripe price sells. */
export const PLAN_AMOUNT: Record<string, number> = {
  free: 0,
  pro: 2900,
  pro_trial: 2900,
  enterprise: 9900,
}
export const PLAN_OF_PRICE: Record<string, string> = {
  price_pro_monthly: 'pro',
  price_pro_trial_monthly: 'pro_trial',
  price_enterprise_monthly: 'enterprise',
}

/** A Stripe Checkout Session the model opened. */
export type OpenSession = { id: string; plan: string; coupon: string | null; paid: boolean }

/** A Razorpay order the model opened; `paid` once the user paid it at Razorpay. */
export type OpenOrder = {
  id: string
  plan: string
  amount: number
  coupon: string | null
  paid: CheckoutResult | null
}

/** A period paid at Razorpay, as the model chains them (a later payment queues after the running one). */
/** A captured Razorpay payment: paid at `paidAt`; `forfeitAt` when the user chose free after Tollgate knew of it. */
export type RazorpayPayment = { plan: string; paidAt: number; order: string; forfeitAt?: number }

/** A paid period of the chain the payments buy. */
export type PaidPeriod = { plan: string; start: number; end: number; order: string }

/** What the model knows of one user. */
export type UserModel = {
  name: string
  caller: Caller
  sessions: OpenSession[]
  orders: OpenOrder[]
  razorpayPayments: RazorpayPayment[]
  /** Stripe subscription id → model time its renewal first failed (cleared when paid). */
  stripeFailedAt: Map<string, number>
  /** Purchases the model made to grant credits (tollgate.purchases ids), refunded or not. */
  creditPurchases: string[]
  /** API keys the user made (tollgate.create_api_key), live or revoked. */
  apiKeys: { id: string; key: string; revoked: boolean }[]
  /**
   * Set when the user deleted their account (delete-account, then the app removed the auth user):
   * the invoices Tollgate kept of them (the money trail) and what identified them (id, email,
   * provider customer ids), which nothing may mention any more.
   */
  deleted: { invoices: string[]; identifiers: string[] } | null
}

/** A webhook delivery the provider still owes (or may repeat). */
export type Delivery =
  | { kind: 'stripe'; label: string; event: StripeJson }
  | {
      kind: 'razorpay'
      label: string
      init: { method: 'POST'; headers: Record<string, string>; body: string }
    }

/** What a counter looked like after the previous step. */
export type CounterSnapshot = {
  period: string
  periodStart: string
  used: bigint
  quota: bigint
  baseQuota: bigint
}

/** What was consumed in one counter period and the most it may hold. */
export type PeriodAccount = {
  consumed: bigint
  maxBase: bigint
  carryIn: bigint
  unlimited: boolean
}

/** A discounted payment the provider took (the model's count of coupon uses sold). */
export type DiscountedPayment = { coupon: string; user: string; ref: string }

/** One fast-check run: fresh users, the model, the pending deliveries and the step log. */
export type World = {
  sys: System
  config: ModelConfig
  users: UserModel[]
  queue: Delivery[]
  delivered: Delivery[]
  eventCursor: number
  counters: Map<string, CounterSnapshot>
  periods: Map<string, PeriodAccount>
  /** Per step: allowed consumption and releases by `user|metric`. */
  stepConsumed: Map<string, bigint>
  stepReleased: Map<string, bigint>
  /** Per step: what an admin's reset gave back, by `user|metric` (used may drop by that much). */
  stepReset: Map<string, bigint>
  /** Credits taken back by revoke_purchase_credits, by `user|metric` (the run's total). */
  creditsRevoked: Map<string, bigint>
  /** What a step saw break that only the step itself can see (a refused consume that changed state, ...). */
  stepFindings: { invariant: 'refusedConsumeChangesNothing' | 'consumeNeverPassesQuota' | 'revokedKeysNeverWork' | 'requestsWithinTheHourlyLimit' | 'retriedAdminGrantGrantsOnce'; message: string }[]
  /** The run's own one-use coupon (30% off pro and enterprise). */
  smallCoupon: string
  discounted: DiscountedPayment[]
  /** Razorpay orders already seen held (each is judged once, when it first shows). */
  seenHeld: Set<string>
  log: string[]
  /** Ids for the events taken from the fake Stripe (seeded per run). */
  nextEventId: () => string
  /** past_due_grace now, in seconds (admin_set_grace changes it; Tollgate applies a change at once). */
  graceSeconds: number
}

/** Starts a run: two fresh users, a small coupon of its own, clock back to real time. */
export const newWorld = async (sys: System, config: ModelConfig, seed: number): Promise<World> => {
  sys.clock.offset = 0
  sys.clock.frozen = null
  // An earlier run's admin edits (grace, plan limits) are undone: each run starts from the seed.
  await sys.restoreAdminSettings()
  const users: UserModel[] = []
  for (const name of ['u1', 'u2']) {
    users.push({
      name,
      caller: await sys.signIn(),
      sessions: [],
      orders: [],
      razorpayPayments: [],
      stripeFailedAt: new Map(),
      creditPurchases: [],
      apiKeys: [],
      deleted: null,
    })
  }
  const smallCoupon = `SMALL${randomUUID().replaceAll('-', '').slice(0, 10).toUpperCase()}`
  await sys.sql`
    insert into tollgate_private.coupons (code, percent_off, max_uses, plan_ids)
    values (${smallCoupon}, 30, 1, array['pro', 'enterprise'])`
  return {
    sys,
    config,
    users,
    queue: [],
    delivered: [],
    // Events of earlier runs are not this run's to deliver.
    eventCursor: sys.stripe.events.length,
    counters: new Map(),
    periods: new Map(),
    stepConsumed: new Map(),
    stepReleased: new Map(),
    stepReset: new Map(),
    creditsRevoked: new Map(),
    stepFindings: [],
    smallCoupon,
    discounted: [],
    seenHeld: new Set(),
    log: [],
    nextEventId: eventIds(seed, randomUUID().replaceAll('-', '').slice(0, 8)),
    graceSeconds: sys.seedGraceSeconds,
  }
}

/** The Stripe subscriptions at the fake that belong to the user. */
export const stripeSubscriptionsOf = (w: World, user: UserModel): StripeJson[] =>
  [...w.sys.stripe.state.subscriptions.values()].filter(
    (s) => s.metadata?.user_id === user.caller.id,
  )

/** Postgres' `+ make_interval(months => k)` in UTC (clamped to the month's end: Jan 31 → Feb 28/29). */
export const addMonthsUtc = (at: number, months: number): number => {
  const d = new Date(at * 1000)
  const first = new Date(
    Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()),
  )
  const last = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate()
  first.setUTCDate(Math.min(d.getUTCDate(), last))
  return Math.floor(first.getTime() / 1000)
}

/** One month later, as Postgres adds `interval '1 month'` in UTC. */
export const addMonthUtc = (at: number): number => addMonthsUtc(at, 1)

/** Takes the fake Stripe's new events into the queue, with random ids as Stripe's are. */
export const collectStripeEvents = (w: World): number => {
  const fresh = w.sys.stripe.events.slice(w.eventCursor)
  w.eventCursor = w.sys.stripe.events.length
  for (const event of fresh) {
    const copy = { ...event, id: w.nextEventId() }
    w.queue.push({ kind: 'stripe', label: `${event.type}@${event.created}`, event: copy })
  }
  return fresh.length
}

/** Records a captured Razorpay payment. */
export const recordRazorpayCapture = (user: UserModel, order: OpenOrder, at: number): void => {
  user.razorpayPayments.push({ plan: order.plan, paidAt: at, order: order.id })
}

/** The user chose free: paid Razorpay time Tollgate knew of is given up from now on. */
export const forfeitRazorpay = (user: UserModel, at: number, known: ReadonlySet<string>): void => {
  for (const p of user.razorpayPayments) {
    if (known.has(p.order) && p.forfeitAt === undefined) p.forfeitAt = at
  }
}

/**
 * The paid periods the payments buy, in capture order: each runs one month from its payment or,
 * when an earlier one still runs, from that one's end (a later payment queues). A payment Tollgate
 * held for an operator (refund or grant) buys no period by itself.
 */
export const razorpayChain = (user: UserModel, held: ReadonlySet<string>): PaidPeriod[] => {
  const chain: PaidPeriod[] = []
  let previousEnd = -Infinity
  for (const p of user.razorpayPayments) {
    if (held.has(p.order)) continue
    const start = Math.max(p.paidAt, previousEnd)
    let end = addMonthUtc(start)
    if (p.forfeitAt !== undefined) end = Math.min(end, p.forfeitAt)
    if (end < start) continue
    chain.push({ plan: p.plan, start, end, order: p.order })
    previousEnd = end
  }
  return chain
}

/** What the provider bills the user for at model time `at`, and which plans Tollgate may grant. */
export type Billing = {
  /** Subscriptions the providers charge or hold paid time for right now. */
  billed: { provider: string; plan: string; ref: string }[]
  /** Plans Tollgate may grant now (more than one only inside a grace). */
  acceptable: string[]
}

export const billingOf = (
  w: World,
  user: UserModel,
  at: number,
  held: ReadonlySet<string> = new Set(),
): Billing => {
  const billed: Billing['billed'] = []
  const entitled: string[] = []
  for (const sub of stripeSubscriptionsOf(w, user)) {
    const plan = PLAN_OF_PRICE[String(sub.items?.data?.[0]?.price?.id)] ?? 'unknown'
    if (sub.status === 'active' || sub.status === 'trialing') {
      billed.push({ provider: 'stripe', plan, ref: String(sub.id) })
      entitled.push(plan)
    } else if (sub.status === 'past_due') {
      billed.push({ provider: 'stripe', plan, ref: String(sub.id) })
      // The grace counts from the failed renewal (REVIEW S-2), not from the unpaid period's end.
      const failedAt = user.stripeFailedAt.get(String(sub.id)) ?? at
      if (at < failedAt + w.graceSeconds) entitled.push(plan)
    }
  }
  const chain = razorpayChain(user, held)
  const covering = chain.filter((p) => p.start <= at && at < p.end)
  for (const p of covering) billed.push({ provider: 'razorpay', plan: p.plan, ref: p.order })
  entitled.push(...covering.map((p) => p.plan))
  const acceptable = [...new Set(entitled)]
  if (acceptable.length === 0) {
    acceptable.push('free')
    const last = chain.filter((p) => p.end <= at).at(-1)
    if (last && at < last.end + w.graceSeconds) acceptable.push(last.plan)
  }
  return { billed, acceptable }
}
