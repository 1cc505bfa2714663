import fc from 'fast-check'
import type { ActionKind } from './config.ts'
import { identifiersOf } from '../helpers/forgotten.ts'
import { checkInvariants } from './invariants.ts'
import {
  billingOf,
  collectStripeEvents,
  EDITED_METRICS,
  EDITED_PLANS,
  forfeitRazorpay,
  GRACE_HOURS,
  LIMIT_EDITS,
  PLAN_AMOUNT,
  PLAN_OF_PRICE,
  recordRazorpayCapture,
  stripeSubscriptionsOf,
  type UserModel,
  type World,
} from './world.ts'

/** admin_edit_limit's choices: which plan and metric, and what the admin does to its limit. */
const limitEditOf = (s: Step) => ({
  plan: EDITED_PLANS[s.pick % EDITED_PLANS.length] ?? 'free',
  metric: EDITED_METRICS[s.amount % EDITED_METRICS.length] ?? 'api_calls',
  edit: LIMIT_EDITS[(s.days + 3 * (s.pick >> 2)) % LIMIT_EDITS.length] ?? 'half',
})

/** admin_set_grace's choice. */
const graceHoursOf = (s: Step): number => GRACE_HOURS[s.pick % GRACE_HOURS.length] ?? 72

/**
 * An admin edits a plan's limit in Studio (a row of tollgate.plan_limits, as the owner): halves or
 * doubles the seeded quota, makes it unlimited, removes the metric from the plan, or puts the seeded
 * limit back. Counters on it follow at their next use (the 0520 trigger marks them due).
 */
const editLimit = async (w: World, s: Step): Promise<string> => {
  const { plan, metric, edit } = limitEditOf(s)
  const seeded = w.sys.seedLimits.find((l) => l.plan_id === plan && l.metric === metric)
  if (!seeded) return 'not a seeded limit'
  w.sys.adminEdited()
  if (edit === 'remove') {
    const removed = await w.sys.sql`
      delete from tollgate.plan_limits where plan_id = ${plan} and metric = ${metric}`
    return removed.count === 0 ? 'already removed' : 'removed'
  }
  const quota =
    edit === 'unlimited' ? -1
    : edit === 'restore' ? seeded.quota
    : seeded.quota === -1 ? (edit === 'half' ? 100 : -1)
    : edit === 'half' ? Math.floor(seeded.quota / 2)
    : seeded.quota * 2
  await w.sys.sql`
    insert into tollgate.plan_limits as l (plan_id, metric, quota, period, carry_over)
    values (${plan}, ${metric}, ${quota}, ${seeded.period}, ${seeded.carry_over})
    on conflict (plan_id, metric) do update set quota = excluded.quota`
  return `quota ${quota}`
}

/** One generated step: an action kind, the user it acts for, and small choices. */
export type Step = {
  kind: ActionKind
  user: number
  plan: 'pro' | 'enterprise'
  coupon: 'WELCOME20' | 'STUDENT50' | 'SMALL' | null
  /** The provider of checkout_with_coupon and checkout_again (among the enabled ones). */
  provider: 'stripe' | 'razorpay'
  /** Picks among open sessions, orders or queued deliveries (modulo their count). */
  pick: number
  amount: number
  days: number
}

/** Consume sizes that reach each seeded quota in a few steps (free 1,000, pro 100,000, enterprise 1,000,000). */
export const CONSUME_AMOUNTS = [1, 300, 600, 30_000, 60_000, 600_000] as const
/** Credits granted at once: a few (used up in a step or two) or many (outlast a free month). */
export const CREDIT_AMOUNTS = [500, 50_000] as const
/** Days until granted credits expire (null = never): inside a step's jump or past a month. */
export const CREDIT_DAYS = [null, 2, 40] as const
/** Time jumps: a day, past a grace, past a month. */
export const DAYS = [1, 4, 31] as const

const describe = (s: Step): string => {
  const u = `u${s.user + 1}`
  switch (s.kind) {
    case 'checkout_stripe':
    case 'checkout_razorpay':
      return `${s.kind}(${u}, ${s.plan})`
    case 'checkout_with_coupon':
      return `checkout_with_coupon(${u}, ${s.plan}, ${s.coupon ?? 'WELCOME20'}, ${s.provider})`
    case 'checkout_again':
      return `checkout_again(${u}, ${s.plan}, ${s.provider}${s.coupon ? `, ${s.coupon}` : ''})`
    case 'change_plan':
      return `change_plan(${u}, ${s.plan})`
    case 'consume':
      return `consume(${u}, api_calls, ${CONSUME_AMOUNTS[s.amount % CONSUME_AMOUNTS.length]})`
    case 'gauge':
      return `gauge(${u}, projects, ${s.pick % 2 ? 'release' : 'consume'} 1)`
    case 'grant_credits':
      return `grant_credits(${u}, api_calls, ${CREDIT_AMOUNTS[s.amount % CREDIT_AMOUNTS.length]}, ${
        s.pick % 2 ? 'purchase' : s.pick % 4 === 2 ? 'admin, retried under a key' : 'admin'
      }, expires ${CREDIT_DAYS[s.days % CREDIT_DAYS.length] ?? 'never'}${
        CREDIT_DAYS[s.days % CREDIT_DAYS.length] ? ' days' : ''
      })`
    case 'revoke_credits':
      return `revoke_credits(${u}, purchase #${s.pick})`
    case 'admin_reset_usage':
      return `admin_reset_usage(${u}, api_calls)`
    case 'admin_edit_limit': {
      const edit = limitEditOf(s)
      return `admin_edit_limit(${edit.plan}, ${edit.metric}, ${edit.edit})`
    }
    case 'admin_set_grace':
      return `admin_set_grace(${graceHoursOf(s)} hours)`
    case 'delete_account':
      return `delete_account(${u})`
    case 'make_api_key':
      return `make_api_key(${u})`
    case 'revoke_api_key':
      return `revoke_api_key(${u}, key #${s.pick})`
    case 'metered_consume':
      return `metered_consume(${u}, key #${s.pick}, api_calls, ${CONSUME_AMOUNTS[s.amount % CONSUME_AMOUNTS.length]})`
    case 'advance_time':
      return `advance_time(${DAYS[s.days % DAYS.length]} days)`
    case 'deliver':
    case 'deliver_duplicate':
      return `${s.kind}(#${s.pick})`
    case 'checkout_trial':
      return `checkout_trial(${u}, pro_trial)`
    case 'deliver_all':
    case 'maintenance':
    case 'renew_paid':
    case 'renew_failed':
      return `${s.kind}()`
    default:
      return `${s.kind}(${u}${s.pick ? `, #${s.pick}` : ''})`
  }
}

/** A fast-check command running one step against the system, then every enabled invariant. */
class StepCommand implements fc.AsyncCommand<object, World> {
  readonly step: Step
  constructor(step: Step) {
    this.step = step
  }
  check = (): boolean => true
  run = async (_model: object, w: World): Promise<void> => {
    w.stepConsumed.clear()
    w.stepReleased.clear()
    w.stepReset.clear()
    w.stepFindings = []
    w.sys.tick()
    const what = describe(this.step)
    let outcome: string
    try {
      outcome = await runStep(w, this.step)
    } catch (error) {
      throw new Error(`step ${what} threw: ${error instanceof Error ? error.stack : String(error)}\n${w.log.join('\n')}`)
    }
    collectStripeEvents(w)
    w.log.push(`${String(w.log.length + 1).padStart(2)}. ${what} → ${outcome}`)
    await checkInvariants(w)
  }
  toString = (): string => describe(this.step)
}

const short = (body: unknown): string => {
  if (typeof body !== 'object' || body === null) return String(body).slice(0, 80)
  const b = body as Record<string, unknown>
  if (typeof b.code === 'string') return b.code
  return 'ok'
}

const couponCode = (w: World, coupon: Step['coupon']): string | null =>
  coupon === 'SMALL' ? w.smallCoupon : coupon

/** Whether the user has an open checkout or a subscription the providers bill. */
const hasPurchase = (w: World, user: UserModel): boolean =>
  user.sessions.some(
    (s) => !s.paid && w.sys.stripe.state.checkoutSessions.get(s.id)?.status === 'open',
  ) ||
  user.orders.some((o) => o.paid === null) ||
  billingOf(w, user, w.sys.now()).billed.length > 0

const checkout = async (
  w: World,
  user: UserModel,
  plan: string,
  provider: 'stripe' | 'razorpay',
  coupon: string | null,
): Promise<string> => {
  const answer = await w.sys.post('checkout', user.caller, {
    plan_id: plan,
    provider,
    ...(coupon ? { coupon_code: coupon } : {}),
  })
  if (answer.status !== 200) return `${answer.status} ${short(answer.body)}`
  if (provider === 'stripe') {
    user.sessions.push({ id: String(answer.body.session_id), plan, coupon, paid: false })
    return `200 session ${user.sessions.length - 1}`
  }
  user.orders.push({
    id: String(answer.body.order_id),
    plan,
    amount: Number(answer.body.amount),
    coupon,
    paid: null,
  })
  return `200 order ${user.orders.length - 1} amount ${answer.body.amount}`
}

const payStripe = (w: World, user: UserModel, pick: number): string => {
  const open = user.sessions.filter((s) => !s.paid)
  const session = open[pick % Math.max(open.length, 1)]
  if (!session) return 'no open session'
  const held = w.sys.stripe.state.checkoutSessions.get(session.id)
  if (held?.status !== 'open') return `session ${held?.status ?? 'missing'}`
  const outcome = w.sys.stripe.completeCheckout(session.id)
  session.paid = true
  if (Number(outcome.session.total_details?.amount_discount ?? 0) > 0 && session.coupon) {
    w.discounted.push({ coupon: session.coupon, user: user.name, ref: session.id })
  }
  return `paid ${session.plan} (${outcome.invoice.amount_paid})`
}

const payRazorpay = (w: World, user: UserModel, pick: number): string => {
  const open = user.orders.filter((o) => o.paid === null)
  const order = open[pick % Math.max(open.length, 1)]
  if (!order) return 'no open order'
  const at = w.sys.now()
  order.paid = w.sys.razorpay.pay(order.id)
  recordRazorpayCapture(user, order, at)
  if (order.coupon && order.amount < (PLAN_AMOUNT[order.plan] ?? 0)) {
    w.discounted.push({ coupon: order.coupon, user: user.name, ref: order.id })
  }
  // Razorpay sends both, with the capture's time, each with its own event id.
  for (const event of ['payment.captured', 'order.paid'] as const) {
    const hook = w.sys.razorpay.webhook(event, {
      orderId: order.id,
      paymentId: order.paid.razorpay_payment_id,
      createdAt: at,
    })
    w.queue.push({ kind: 'razorpay', label: `${event} ${order.plan}@${at}`, init: hook.init })
  }
  return `paid ${order.plan} (${order.amount})`
}

const verify = async (w: World, user: UserModel, pick: number): Promise<string> => {
  const paidSessions = user.sessions.filter((s) => s.paid)
  const paidOrders = user.orders.filter((o) => o.paid !== null)
  const all = [...paidSessions.map((s) => ({ s })), ...paidOrders.map((o) => ({ o }))]
  const chosen = all[pick % Math.max(all.length, 1)]
  if (!chosen) return 'nothing paid'
  if ('s' in chosen) {
    const answer = await w.sys.post('verify-payment', user.caller, {
      provider: 'stripe',
      session_id: chosen.s.id,
    })
    return `stripe ${answer.status} ${short(answer.body)}`
  }
  // verify-payment stamps the payment with Postgres' now(): only while it is the model clock.
  if (w.sys.clock.offset !== 0) return 'razorpay skipped (clock moved)'
  const answer = await w.sys.post('verify-payment', user.caller, {
    provider: 'razorpay',
    ...chosen.o.paid,
  })
  return `razorpay ${answer.status} ${short(answer.body)}`
}

/** What a consume may change: the counter's used and every credit grant's remaining. */
const usageStateOf = async (w: World, user: UserModel, metric: string): Promise<string> => {
  const [row] = await w.sys.sql<{ state: string }[]>`
    select concat_ws(' ',
      (select 'used ' || c.used || '/' || c.quota from tollgate_private.usage_counters c
        where c.user_id = ${user.caller.id}::uuid and c.metric = ${metric}),
      (select 'credits ' || string_agg(g.remaining::text, ',' order by g.id) from tollgate.credit_balances g
        where g.user_id = ${user.caller.id}::uuid and g.metric = ${metric})) as state`
  return row?.state ?? ''
}

type ConsumeAnswer = {
  allowed: boolean
  used: number
  quota: number
  credits_drawn: number
  credits_remaining: number
}

const consume = async (w: World, user: UserModel, metric: string, amount: number): Promise<string> => {
  const before = await usageStateOf(w, user, metric)
  const [row] = await w.sys.sql<{ result: ConsumeAnswer }[]>`
    select tollgate_private.consume_usage(${user.caller.id}::uuid, ${metric}, ${amount}::bigint, null,
      to_timestamp(${w.sys.now()})) as result`
  const result = row?.result
  const drawn = BigInt(result?.credits_drawn ?? 0)
  if (result?.allowed) {
    // Only what the quota took counts against the period's quota; credits are paid for apart.
    const key = `${user.caller.id}|${metric}`
    w.stepConsumed.set(key, (w.stepConsumed.get(key) ?? 0n) + BigInt(amount) - drawn)
    if (result.quota !== -1 && result.used > result.quota && BigInt(amount) > drawn) {
      w.stepFindings.push({
        invariant: 'consumeNeverPassesQuota',
        message: `${user.name} ${metric}: an allowed consume of ${amount} (${drawn} from credits) left used ${result.used} past quota ${result.quota}`,
      })
    }
  } else {
    // A refusal changes nothing (the counter may only be brought up to date: a roll or a plan).
    const after = await usageStateOf(w, user, metric)
    const credits = (state: string): string => state.replace(/^.*?(credits |$)/, '$1')
    if (credits(after) !== credits(before) || drawn !== 0n) {
      w.stepFindings.push({
        invariant: 'refusedConsumeChangesNothing',
        message: `${user.name} ${metric}: a refused consume of ${amount} changed the credits (${before} → ${after}; drawn ${drawn})`,
      })
    }
  }
  return `${result?.allowed ? 'allowed' : 'refused'} used ${result?.used}/${result?.quota}${
    drawn > 0n || (result?.credits_remaining ?? 0) > 0
      ? ` credits drawn ${drawn} left ${result?.credits_remaining}`
      : ''
  }`
}

/** As the user through PostgREST: their role and claims, one transaction. */
const asCaller = <T>(w: World, user: UserModel, run: (tx: any) => Promise<T>): Promise<T> =>
  w.sys.sql.begin(async (tx: any) => {
    await tx`select pg_catalog.set_config('role', 'authenticated', true),
      pg_catalog.set_config('request.jwt.claims', ${JSON.stringify(user.caller.claims)}, true)`
    return run(tx)
  }) as Promise<T>

/** The user makes an API key (tollgate.create_api_key, real time): one of the api_keys gauge. */
const makeApiKey = async (w: World, user: UserModel): Promise<string> => {
  try {
    const made = await asCaller(w, user, async (tx) => {
      const [row] = await tx`select tollgate.create_api_key('model') as made`
      return row.made as { id: string; key: string }
    })
    user.apiKeys.push({ id: made.id, key: made.key, revoked: false })
    const key = `${user.caller.id}|api_keys`
    w.stepConsumed.set(key, (w.stepConsumed.get(key) ?? 0n) + 1n)
    return `key #${user.apiKeys.length - 1}`
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'QUOTA') return 'QUOTA'
    throw error
  }
}

/** The user revokes one of their keys (a second revoke of the same key changes nothing). */
const revokeApiKey = async (w: World, user: UserModel, pick: number): Promise<string> => {
  const key = user.apiKeys[pick % Math.max(user.apiKeys.length, 1)]
  if (!key) return 'no key'
  await asCaller(w, user, (tx) => tx`select tollgate.revoke_api_key(${key.id}::uuid)`)
  if (!key.revoked) {
    const gauge = `${user.caller.id}|api_keys`
    w.stepReleased.set(gauge, (w.stepReleased.get(gauge) ?? 0n) + 1n)
  }
  key.revoked = true
  return 'revoked'
}

/**
 * A request of the user's server through the metering function's one statement, at the model
 * time: a revoked key must be refused (BDKEY) and count nothing; a good one counts a request,
 * then the consume as consume does.
 */
const meteredConsume = async (w: World, user: UserModel, pick: number, amount: number): Promise<string> => {
  const key = user.apiKeys[pick % Math.max(user.apiKeys.length, 1)]
  if (!key) return 'no key'
  let metered: { rate: { allowed: boolean; limit: number; remaining: number }; answer?: ConsumeAnswer; error?: { code: string } }
  try {
    const [row] = await w.sys.sql<{ m: typeof metered }[]>`
      select tollgate_private.meter_request(${key.key}, 'consume', 'api_calls', ${amount}::bigint, null, null,
        to_timestamp(${w.sys.now()})) as m`
    metered = row!.m
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'BDKEY' && key.revoked) return 'BDKEY (revoked)'
    throw error
  }
  if (key.revoked) {
    w.stepFindings.push({ invariant: 'revokedKeysNeverWork', message: `${user.name}: a revoked key was let through (${JSON.stringify(metered)})` })
  }
  const requests = `${user.caller.id}|requests`
  if (!metered.rate.allowed) return `429 (limit ${metered.rate.limit})`
  w.stepConsumed.set(requests, (w.stepConsumed.get(requests) ?? 0n) + 1n)
  if (metered.rate.limit !== -1 && metered.rate.remaining < 0) {
    w.stepFindings.push({ invariant: 'requestsWithinTheHourlyLimit', message: `${user.name}: ${JSON.stringify(metered.rate)}` })
  }
  const result = metered.answer
  if (!result) return `error ${metered.error?.code}`
  const drawn = BigInt(result.credits_drawn ?? 0)
  if (result.allowed) {
    const counted = `${user.caller.id}|api_calls`
    w.stepConsumed.set(counted, (w.stepConsumed.get(counted) ?? 0n) + BigInt(amount) - drawn)
  }
  return `${result.allowed ? 'allowed' : 'refused'} used ${result.used}/${result.quota} (requests left ${metered.rate.remaining})`
}

/** Credits granted as a paid purchase or an admin would: through grant_credits, at the model time. */
const grantCredits = async (w: World, user: UserModel, s: Step): Promise<string> => {
  const amount = CREDIT_AMOUNTS[s.amount % CREDIT_AMOUNTS.length] ?? 500
  const days = CREDIT_DAYS[s.days % CREDIT_DAYS.length] ?? null
  const expiresAt = days === null ? null : w.sys.now() + days * 24 * 3600
  if (s.pick % 2) {
    const [purchase] = await w.sys.sql<{ id: string }[]>`
      insert into tollgate.purchases (user_id, product_id, provider, currency, amount_paid, paid_at)
      values (${user.caller.id}::uuid, 'api_calls_pack', 'internal', 'usd', 1000, to_timestamp(${w.sys.now()}))
      returning id`
    if (!purchase) return 'no purchase'
    await w.sys.sql`
      select tollgate_private.grant_credits(${user.caller.id}::uuid, 'api_calls', ${amount}::bigint,
        to_timestamp(${expiresAt}), 'purchase', ${purchase.id}::uuid)`
    user.creditPurchases.push(purchase.id)
    return `granted ${amount} (purchase ${user.creditPurchases.length - 1})`
  }
  // An admin's grant goes through the admin function (an owner session counts as an admin); every
  // other one is a support tool's request sent twice under one idempotency key, as a retry would.
  const key = s.pick % 4 === 2 ? `model-${user.caller.id}-${w.log.length}` : null
  const grantOnce = async () => {
    const [grant] = await w.sys.sql<{ id: string | null }[]>`
      select tollgate.admin_grant_credits(${user.caller.id}::uuid, 'api_calls', ${amount}::bigint,
        to_timestamp(${expiresAt}), 'model run', ${key}) ->> 'id' as id`
    return grant?.id ?? null
  }
  const first = await grantOnce()
  if (key === null) return first ? `granted ${amount} (admin)` : 'no grant'
  const again = await grantOnce()
  if (again !== first) {
    w.stepFindings.push({
      invariant: 'retriedAdminGrantGrantsOnce',
      message: `${user.name}: the retry of admin grant ${first} under key ${key} made grant ${again}`,
    })
  }
  return `granted ${amount} (admin, retried under a key)`
}

/** A purchase refunded: its unused credits taken back (once; used ones stay used). */
const revokeCredits = async (w: World, user: UserModel, pick: number): Promise<string> => {
  const purchase = user.creditPurchases[pick % Math.max(user.creditPurchases.length, 1)]
  if (!purchase) return 'no purchase'
  const [row] = await w.sys.sql<{ n: string }[]>`
    select tollgate_private.revoke_purchase_credits(${purchase}::uuid)::text as n`
  const key = `${user.caller.id}|api_calls`
  w.creditsRevoked.set(key, (w.creditsRevoked.get(key) ?? 0n) + BigInt(row?.n ?? 0))
  return `revoked ${row?.n}`
}

const release = async (w: World, user: UserModel, metric: string): Promise<string> => {
  const [counter] = await w.sys.sql<{ used: string }[]>`
    select used::text from tollgate_private.usage_counters
    where user_id = ${user.caller.id} and metric = ${metric}`
  // An app releases what it created: never more than it holds.
  if (!counter || BigInt(counter.used) < 1n) return 'nothing to release'
  const [row] = await w.sys.sql<{ result: { allowed: boolean; used: number } }[]>`
    select tollgate_private.release_usage(${user.caller.id}::uuid, ${metric}, 1, null,
      to_timestamp(${w.sys.now()})) as result`
  const key = `${user.caller.id}|${metric}`
  w.stepReleased.set(key, (w.stepReleased.get(key) ?? 0n) + 1n)
  return `released, used ${row?.result.used}`
}

const deliver = async (w: World, index: number): Promise<string> => {
  const at = index % Math.max(w.queue.length, 1)
  const delivery = w.queue[at]
  if (!delivery) return 'queue empty'
  const answer =
    delivery.kind === 'stripe'
      ? await w.sys.deliverStripe(delivery.event)
      : await w.sys.deliverRazorpay(delivery.init)
  // A provider retries anything but 2xx: the delivery stays queued.
  if (answer.status >= 200 && answer.status < 300) {
    w.queue.splice(at, 1)
    w.delivered.push(delivery)
  }
  return `${delivery.label} → ${answer.status}${answer.status >= 300 ? ` ${short(answer.body)}` : ''}`
}

const redeliver = async (w: World, index: number): Promise<string> => {
  const delivery = w.delivered[index % Math.max(w.delivered.length, 1)]
  if (!delivery) return 'nothing delivered yet'
  const answer =
    delivery.kind === 'stripe'
      ? await w.sys.deliverStripe(delivery.event)
      : await w.sys.deliverRazorpay(delivery.init)
  return `again ${delivery.label} → ${answer.status}`
}

const stripeApi = async (w: World, method: string, path: string, form?: string): Promise<void> => {
  const response = await w.sys.stripe.app.request(`${w.sys.stripe.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${w.sys.env.STRIPE_SECRET_KEY}`,
      ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    },
    ...(form ? { body: form } : {}),
  })
  if (response.status !== 200) throw new Error(`fake Stripe ${method} ${path}: ${response.status}`)
}

/** Stripe's own clock work up to the model time: renewals (paid or failed) and period-end cancels. */
const runStripeClock = async (w: World, paid: boolean): Promise<string[]> => {
  const done: string[] = []
  const at = w.sys.now()
  // Checkout Sessions expire 24 h after their creation (Stripe's default) if nobody paid them.
  for (const user of w.users) {
    for (const session of user.sessions) {
      const held = w.sys.stripe.state.checkoutSessions.get(session.id)
      if (held?.status === 'open' && Number(held.expires_at) <= at) {
        w.sys.stripe.expireCheckout(session.id)
        done.push(`${user.name} session ${user.sessions.indexOf(session)} expired`)
      }
    }
  }
  for (const user of w.users) {
    for (const sub of stripeSubscriptionsOf(w, user)) {
      for (let guard = 0; guard < 24; guard += 1) {
        const current = w.sys.stripe.state.subscriptions.get(String(sub.id))
        if (!current || !['active', 'trialing', 'past_due'].includes(String(current.status))) break
        const end = Number(current.items.data[0].current_period_end)
        if (end > at) break
        if (current.cancel_at_period_end) {
          await stripeApi(w, 'DELETE', `/v1/subscriptions/${sub.id}`)
          done.push(`${user.name} ${sub.id} ended`)
          break
        }
        w.sys.stripe.renewSubscription(String(sub.id), { paid })
        if (paid) user.stripeFailedAt.delete(String(sub.id))
        // The failure is the renewal at the old period's end (the unpaid period's start), even
        // when the model's clock jumped past it and Stripe's events carry this step's time.
        else if (!user.stripeFailedAt.has(String(sub.id))) user.stripeFailedAt.set(String(sub.id), end)
        done.push(`${user.name} ${sub.id} renewed ${paid ? 'paid' : 'FAILED'}`)
      }
    }
  }
  return done
}

/** Kinds that act for nobody in particular: they still run once a user deleted their account. */
const KINDS_OF_NO_USER: ReadonlySet<ActionKind> = new Set([
  'deliver',
  'deliver_duplicate',
  'deliver_all',
  'renew_paid',
  'renew_failed',
  'advance_time',
  'maintenance',
  'admin_edit_limit',
  'admin_set_grace',
])

/**
 * The user deletes their account (POST /billing/delete-account: their Stripe checkouts closed and
 * subscriptions cancelled at Stripe, then Tollgate forgets them), and the app then deletes the
 * auth user with Supabase's admin API, as CONTRACT.md says it does. Their invoices stay, without them.
 */
const deleteAccount = async (w: World, user: UserModel): Promise<string> => {
  const invoices = await w.sys.sql<{ id: string }[]>`
    select id::text from tollgate.invoices where user_id = ${user.caller.id}::uuid`
  const identifiers = await identifiersOf(w.sys.sql, user.caller)
  const answer = await w.sys.post('delete-account', user.caller, { confirm: true })
  if (answer.status !== 200) return `${answer.status} ${short(answer.body)}`
  await w.sys.sql`delete from auth.users where id = ${user.caller.id}::uuid`
  user.deleted = { invoices: invoices.map((row) => row.id), identifiers }
  const body = answer.body as { providers?: { stripe?: { subscriptions_canceled?: number } } }
  return `200 forgotten (${invoices.length} invoices kept, ${body.providers?.stripe?.subscriptions_canceled ?? 0} Stripe subscriptions cancelled)`
}

const runStep = async (w: World, s: Step): Promise<string> => {
  const user = w.users[s.user % w.users.length] as UserModel
  const coupon = couponCode(w, s.coupon)
  if (user.deleted && !KINDS_OF_NO_USER.has(s.kind)) return 'skipped (account deleted)'
  switch (s.kind) {
    case 'delete_account':
      return deleteAccount(w, user)
    case 'checkout_trial':
      if (hasPurchase(w, user)) return 'skipped (not a first purchase: checkout_again)'
      return checkout(w, user, 'pro_trial', 'stripe', null)
    case 'end_trial': {
      // The trialing user pays now (Stripe: trial_end=now, a new billing cycle from now).
      const trialing = stripeSubscriptionsOf(w, user).filter((sub) => sub.status === 'trialing')
      const sub = trialing[s.pick % Math.max(trialing.length, 1)]
      if (!sub) return 'no trialing subscription'
      await stripeApi(w, 'POST', `/v1/subscriptions/${sub.id}`, 'trial_end=now')
      return `trial of ${sub.id} ended now, paid`
    }
    case 'checkout_stripe':
    case 'checkout_razorpay':
    case 'checkout_with_coupon': {
      // A first purchase: a checkout beside an open one, or while a subscription is billed, is
      // the kind checkout_again (the door to defects 3, 4 and S-1).
      if (hasPurchase(w, user)) return 'skipped (not a first purchase: checkout_again)'
      if (s.kind === 'checkout_stripe') return checkout(w, user, s.plan, 'stripe', null)
      if (s.kind === 'checkout_razorpay') return checkout(w, user, s.plan, 'razorpay', null)
      return checkout(w, user, s.plan, s.provider, coupon ?? 'WELCOME20')
    }
    case 'checkout_again':
      return checkout(w, user, s.plan, s.provider, coupon)
    case 'checkout_free': {
      const answer = await w.sys.post('checkout', user.caller, { plan_id: 'free' })
      if (answer.status === 200) {
        // Paid time Tollgate knew of is given up; a payment it has not heard of yet still buys
        // its period when it arrives.
        const applied = await w.sys.sql<{ id: string }[]>`
          select provider_id as id from tollgate_private.provider_refs
          where provider = 'razorpay' and object_type = 'order' and local_id is not null
            and user_id = ${user.caller.id}::uuid`
        forfeitRazorpay(user, w.sys.now(), new Set(applied.map((r) => r.id)))
      }
      return `${answer.status} ${short(answer.body)}`
    }
    case 'pay_stripe':
      return payStripe(w, user, s.pick)
    case 'pay_razorpay':
      return payRazorpay(w, user, s.pick)
    case 'verify_payment':
      return verify(w, user, s.pick)
    case 'change_plan': {
      // Mostly to the other paid plan than the one Stripe bills, so runs flip back and forth
      // (the sequences of defects 1 and 2); sometimes the drawn plan, which may be the same (SAMEP).
      const billed = stripeSubscriptionsOf(w, user)
        .filter((sub) => ['active', 'trialing', 'past_due'].includes(String(sub.status)))
        .map((sub) => PLAN_OF_PRICE[String(sub.items?.data?.[0]?.price?.id)])
        .at(-1)
      const target =
        s.pick % 4 !== 0 && (billed === 'pro' || billed === 'enterprise')
          ? billed === 'pro'
            ? 'enterprise'
            : 'pro'
          : s.plan
      const answer = await w.sys.post('change-plan', user.caller, { plan_id: target })
      return `${answer.status} ${short(answer.body)}`
    }
    case 'portal_cancel': {
      // The user cancels at Stripe itself (Billing Portal, cancel now): no route, only events.
      const live = stripeSubscriptionsOf(w, user).filter((sub) =>
        ['active', 'trialing', 'past_due'].includes(String(sub.status)),
      )
      const sub = live[s.pick % Math.max(live.length, 1)]
      if (!sub) return 'no live Stripe subscription'
      await stripeApi(w, 'DELETE', `/v1/subscriptions/${sub.id}`)
      return `canceled ${sub.id} at Stripe`
    }
    case 'cancel':
    case 'resume': {
      const answer = await w.sys.post(s.kind, user.caller)
      return `${answer.status} ${short(answer.body)}`
    }
    case 'consume':
      return consume(w, user, 'api_calls', CONSUME_AMOUNTS[s.amount % CONSUME_AMOUNTS.length] ?? 1)
    case 'gauge':
      return s.pick % 2 ? release(w, user, 'projects') : consume(w, user, 'projects', 1)
    case 'grant_credits':
      return grantCredits(w, user, s)
    case 'revoke_credits':
      return revokeCredits(w, user, s.pick)
    case 'admin_reset_usage': {
      // An admin gives the period's calls back (support): audited, with a ledger row, never on gauges.
      const [row] = await w.sys.sql<{ r: { used_before: number } }[]>`
        select tollgate.admin_reset_usage(${user.caller.id}::uuid, 'api_calls', 'model run') as r`
      w.stepReset.set(`${user.caller.id}|api_calls`, BigInt(row?.r.used_before ?? 0))
      return `reset (was ${row?.r.used_before})`
    }
    case 'admin_edit_limit':
      return editLimit(w, s)
    case 'admin_set_grace': {
      // As an admin in Studio: tollgate_private.settings; Tollgate applies it at once (0525).
      const hours = graceHoursOf(s)
      w.sys.adminEdited()
      await w.sys.sql`update tollgate_private.settings set past_due_grace = make_interval(hours => ${hours}::int)`
      w.graceSeconds = hours * 3600
      return `grace ${hours} hours`
    }
    case 'make_api_key':
      return makeApiKey(w, user)
    case 'revoke_api_key':
      return revokeApiKey(w, user, s.pick)
    case 'metered_consume':
      return meteredConsume(w, user, s.pick, CONSUME_AMOUNTS[s.amount % CONSUME_AMOUNTS.length] ?? 1)
    case 'deliver':
      return deliver(w, s.pick)
    case 'deliver_duplicate':
      return redeliver(w, s.pick)
    case 'deliver_all': {
      const answers: string[] = []
      // A shuffled flush; an answer other than 2xx stays queued (at most one pass each).
      for (let n = w.queue.length, i = 0; i < n && w.queue.length > 0; i += 1) {
        answers.push(await deliver(w, s.pick + i * 7))
      }
      return answers.length === 0 ? 'queue empty' : answers.join('; ')
    }
    case 'renew_paid':
    case 'renew_failed': {
      const done = await runStripeClock(w, s.kind === 'renew_paid')
      return done.length === 0 ? 'nothing due' : done.join('; ')
    }
    case 'advance_time': {
      const days = DAYS[s.days % DAYS.length] ?? 1
      w.sys.clock.offset += days * 24 * 3600
      w.sys.tick()
      // Stripe acts on its own as time passes; renewals fail only when that behaviour is enabled.
      const failing = w.config.actions.has('renew_failed') && s.pick % 2 === 1
      const done = await runStripeClock(w, !failing)
      return `now +${w.sys.clock.offset / 86400} days${done.length ? `; ${done.join('; ')}` : ''}`
    }
    case 'maintenance': {
      const [row] = await w.sys.sql<{ result: Record<string, unknown> }[]>`
        select tollgate_private.run_maintenance(to_timestamp(${w.sys.now()})) as result`
      const r = row?.result ?? {}
      return `ended ${r.subscriptions_ended} lapsed ${r.subscriptions_lapsed} expired ${r.subscriptions_expired} counters ${r.counters_refreshed} coupons ${r.coupon_reservations_released}`
    }
  }
}

/** One fixed step (defaults: u1, pro, no coupon, pick 0), to replay a sequence by hand. */
export const stepOf = (step: Partial<Step> & Pick<Step, 'kind'>): fc.AsyncCommand<object, World> =>
  new StepCommand({
    user: 0,
    plan: 'pro',
    coupon: null,
    provider: 'stripe',
    pick: 0,
    amount: 0,
    days: 0,
    ...step,
  })

/** How often each kind is drawn: enough buying, paying and delivering to reach deep states. */
const WEIGHTS: Record<ActionKind, number> = {
  checkout_stripe: 3,
  checkout_razorpay: 3,
  checkout_with_coupon: 2,
  checkout_again: 2,
  checkout_trial: 2,
  checkout_free: 1,
  pay_stripe: 4,
  pay_razorpay: 4,
  verify_payment: 3,
  change_plan: 4,
  cancel: 1,
  resume: 1,
  portal_cancel: 1,
  end_trial: 2,
  consume: 4,
  gauge: 1,
  grant_credits: 2,
  revoke_credits: 1,
  admin_reset_usage: 1,
  admin_edit_limit: 1,
  admin_set_grace: 1,
  delete_account: 1,
  make_api_key: 1,
  revoke_api_key: 1,
  metered_consume: 2,
  deliver: 3,
  deliver_duplicate: 1,
  deliver_all: 3,
  renew_paid: 1,
  renew_failed: 1,
  advance_time: 2,
  maintenance: 2,
}

/** The arbitrary of steps of the enabled kinds (shrinking goes towards u1, pick 0, small amounts). */
export const stepArbitrary = (
  kinds: readonly ActionKind[],
): fc.Arbitrary<fc.AsyncCommand<object, World>> => {
  // Coupons only when that behaviour is enabled; checkout_with_coupon always carries one.
  const coupons = kinds.includes('checkout_with_coupon')
    ? [null, 'WELCOME20' as const, 'STUDENT50' as const, 'SMALL' as const]
    : [null]
  const providers = [
    ...(kinds.includes('checkout_stripe') || !kinds.includes('checkout_razorpay') ? ['stripe' as const] : []),
    ...(kinds.includes('checkout_razorpay') ? ['razorpay' as const] : []),
  ]
  return fc
    .record({
      kind: fc.oneof(...kinds.map((kind) => ({ arbitrary: fc.constant(kind), weight: WEIGHTS[kind] }))),
      user: fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.constant(1), weight: 1 }),
      plan: fc.constantFrom('pro' as const, 'enterprise' as const),
      coupon: fc.constantFrom(...coupons),
      provider: fc.constantFrom(...providers),
      pick: fc.nat({ max: 7 }),
      amount: fc.nat({ max: CONSUME_AMOUNTS.length - 1 }),
      days: fc.nat({ max: DAYS.length - 1 }),
    })
    .map((step) => new StepCommand(step))
}
