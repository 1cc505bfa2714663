import { eventBody, makeStripeEvent, type StripeJson } from '../../tests/helpers/stripe/events.ts'
import {
  checkoutSessionFixture,
  ENTERPRISE_PRICE,
  invoiceFixture,
  MONTH,
  PRO_PRICE,
  type StripeWorld,
  subscriptionFixture,
} from '../../tests/helpers/stripe/fixtures.ts'

/** The plans the stream's subscriptions move between (supabase/seed.sql). */
const PLAN_OF_PRICE: Record<string, string> = {
  [PRO_PRICE]: 'pro',
  [ENTERPRISE_PRICE]: 'enterprise',
}

const AMOUNT_OF_PRICE: Record<string, number> = {
  [PRO_PRICE]: 2900,
  [ENTERPRISE_PRICE]: 9900,
}

/** Steps of one user's life before the monthly renewals start. */
const FIRST_STEPS = 3

/** Users who sign up in the same round; one user's events are at least this many apart. */
export const BLOCK = 100

/** One event of the stream, built (not signed). */
export type StreamEvent = { index: number; id: string; type: string; body: string }

/** What a user's Tollgate state must be once the stream up to some point was delivered. */
export type ExpectedUser = {
  userId: string
  /** null: no event of this user was delivered. */
  planId: string | null
  /** The Stripe price of that plan (null as planId). */
  priceId: string | null
  /** Unix seconds. */
  periodStart: number
  periodEnd: number
  invoices: number
  /** Whether the user's checkout.session.completed was delivered. */
  checkout: boolean
}

/**
 * The webhook stream: each user's Stripe life as Stripe sends it. A user's steps: 0
 * customer.subscription.created (pro, active), 1 the first invoice.paid, 2
 * checkout.session.completed (the webhook fetches the subscription from the fake Stripe), then per
 * month m >= 1 customer.subscription.updated (the renewal: next period; the plan switches between
 * pro and enterprise every third month) and that month's invoice.paid. Users come in blocks of
 * `BLOCK`: in round r every earlier block b renews (month r - b), then block r signs up (steps
 * 0-2), so new checkouts and renewals mix from the start and one user's events are at least `BLOCK`
 * events apart, in the order Stripe created them. Every event is built again on demand from
 * (user, step), identical each time.
 */
export type WebhookStream = {
  users: number
  /** The letter every Stripe id of this stream carries (`evt_<prefix>...`). */
  prefix: string
  /** Events the stream holds. */
  length: number
  build: (index: number) => StreamEvent
  /** The event id at `index`, without building the event. */
  idOf: (index: number) => string
  /** The event type at `index`. */
  typeOf: (index: number) => string
  /** The subscription Stripe's API answers with when the webhook fetches it (month 0). */
  initialSubscription: (user: number) => StripeJson
  /** The user's Checkout Session as its checkout.session.completed event carries it. */
  checkoutSession: (user: number) => StripeJson
  /** The Stripe ids of a user's customer, subscription, item and session. */
  stripeIds: (user: number) => StripeWorld
  /** Each user's expected state once events [0, delivered) were delivered (in any order). */
  expected: (delivered: number) => ExpectedUser[]
}

const pad = (value: number, width: number): string => String(value).padStart(width, '0')

/** The price of month m: pro, switching to enterprise and back every third month. */
const priceOf = (month: number): string =>
  Math.floor(month / 3) % 2 === 0 ? PRO_PRICE : ENTERPRISE_PRICE

/** The (user, step) at each position of the stream, `minLength` events or a few more. */
const orderOf = (
  users: number,
  minLength: number,
): { user: Int32Array; step: Int32Array; rounds: number } => {
  const blocks = Math.ceil(users / BLOCK)
  const user: number[] = []
  const step: number[] = []
  const emit = (block: number, at: number) => {
    for (let u = block * BLOCK; u < Math.min(users, (block + 1) * BLOCK); u++) {
      user.push(u)
      step.push(at)
    }
  }
  let round = 0
  for (; user.length < minLength; round++) {
    // Renewals first, so the stream's first 400 events hold every event type.
    for (let block = 0; block < Math.min(round, blocks); block++) {
      const month = round - block
      emit(block, FIRST_STEPS + 2 * (month - 1))
      emit(block, FIRST_STEPS + 2 * (month - 1) + 1)
    }
    if (round < blocks) for (let at = 0; at < FIRST_STEPS; at++) emit(round, at)
  }
  return { user: Int32Array.from(user), step: Int32Array.from(step), rounds: round }
}

/**
 * Builds a stream of at least `minLength` events for `userIds`, its history (a month per round)
 * ending before `now`. Every Stripe id of the stream carries `prefix` (one letter), so two streams
 * with different prefixes can go to one database.
 */
export const createWebhookStream = (
  userIds: string[],
  minLength: number,
  now: number = Math.floor(Date.now() / 1000),
  prefix = 'B',
): WebhookStream => {
  const P = prefix
  const users = userIds.length
  const order = orderOf(users, minLength)
  const length = order.user.length
  // A month per round, the first far enough back that the last renewal is in the past.
  const t0 = now - (order.rounds + 1) * MONTH
  // Stable per-user Stripe ids, so an event built twice is byte for byte the same.
  const worlds: StripeWorld[] = userIds.map((userId, user) => ({
    userId,
    customerId: `cus_${P}${pad(user, 6)}`,
    subscriptionId: `sub_${P}${pad(user, 6)}`,
    itemId: `si_${P}${pad(user, 6)}`,
    sessionId: `cs_test_${P}${pad(user, 6)}`,
  }))
  const worldOf = (user: number): StripeWorld => {
    const world = worlds[user]
    if (!world) throw new Error(`no user ${user}`)
    return world
  }
  // Month m of a user's subscription (block b signs up in round b).
  const startOf = (user: number, month: number): number =>
    t0 + (Math.floor(user / BLOCK) + month) * MONTH
  const invoiceId = (user: number, month: number) => `in_${P}${pad(user, 6)}M${pad(month, 4)}`
  // Event ids sort by step, then user: created times already order one user's events.
  const eventId = (user: number, step: number) => `evt_${P}${pad(step, 5)}U${pad(user, 6)}`

  const subscription = (user: number, month: number): StripeJson =>
    subscriptionFixture(worldOf(user), {
      price: priceOf(month),
      periodStart: startOf(user, month),
      periodEnd: startOf(user, month + 1),
      created: startOf(user, 0),
      latestInvoice: invoiceId(user, month),
    })

  const invoice = (user: number, month: number): StripeJson => {
    const price = priceOf(month)
    const object = invoiceFixture(worldOf(user), {
      id: invoiceId(user, month),
      billingReason: month === 0 ? 'subscription_create' : 'subscription_cycle',
      amountDue: AMOUNT_OF_PRICE[price] ?? 0,
      periodStart: startOf(user, month),
      periodEnd: startOf(user, month + 1),
      created: startOf(user, month) + 1,
      price,
    })
    object.number = `TG-${P}${pad(user, 6)}-${pad(month, 4)}`
    object.lines.data[0].id = `il_${P}${pad(user, 6)}M${pad(month, 4)}`
    return object
  }

  const checkoutSession = (user: number): StripeJson =>
    checkoutSessionFixture(worldOf(user), {
      invoice: invoiceId(user, 0),
      created: startOf(user, 0) - 60,
    })

  const eventOf = (user: number, step: number): StripeJson => {
    const id = eventId(user, step)
    const t0 = startOf(user, 0)
    if (step === 0) {
      return makeStripeEvent('customer.subscription.created', subscription(user, 0), {
        id,
        created: t0,
      })
    }
    if (step === 1) {
      return makeStripeEvent('invoice.paid', invoice(user, 0), { id, created: t0 + 1 })
    }
    if (step === 2) {
      return makeStripeEvent('checkout.session.completed', checkoutSession(user), {
        id,
        created: t0 + 2,
      })
    }
    const month = Math.floor((step - FIRST_STEPS) / 2) + 1
    if ((step - FIRST_STEPS) % 2 === 0) {
      const before = subscription(user, month - 1)
      const previous: StripeJson = {
        latest_invoice: before.latest_invoice,
        items: before.items,
      }
      return makeStripeEvent('customer.subscription.updated', subscription(user, month), {
        id,
        created: startOf(user, month),
        previousAttributes: previous,
      })
    }
    return makeStripeEvent('invoice.paid', invoice(user, month), {
      id,
      created: startOf(user, month) + 1,
    })
  }

  const at = (index: number): { user: number; step: number } => {
    const user = order.user[index]
    const step = order.step[index]
    if (user === undefined || step === undefined) throw new Error(`no event ${index} in the stream`)
    return { user, step }
  }

  const build = (index: number): StreamEvent => {
    const { user, step } = at(index)
    const event = eventOf(user, step)
    return { index, id: String(event.id), type: String(event.type), body: eventBody(event) }
  }

  const expected = (delivered: number): ExpectedUser[] => {
    // One user's steps come in order, so the last one delivered says everything.
    const last = new Int32Array(users).fill(-1)
    for (let index = 0; index < delivered; index++) {
      const { user, step } = at(index)
      last[user] = Math.max(last[user] ?? -1, step)
    }
    return worlds.map((world, user) => {
      const lastStep = last[user] ?? -1
      const month = lastStep < FIRST_STEPS ? 0 : Math.floor((lastStep - FIRST_STEPS) / 2) + 1
      // Invoices: month 0's at step 1, then one per renewal (steps 4, 6, ...).
      const renewals = lastStep < FIRST_STEPS ? 0 : Math.floor((lastStep - FIRST_STEPS + 1) / 2)
      const invoices = lastStep < 1 ? 0 : 1 + renewals
      return {
        userId: world.userId,
        planId: lastStep < 0 ? null : (PLAN_OF_PRICE[priceOf(month)] ?? 'unknown'),
        priceId: lastStep < 0 ? null : priceOf(month),
        periodStart: startOf(user, month),
        periodEnd: startOf(user, month + 1),
        invoices,
        checkout: lastStep >= 2,
      }
    })
  }

  const typeOf = (index: number): string => {
    const { step } = at(index)
    if (step === 0) return 'customer.subscription.created'
    if (step === 1) return 'invoice.paid'
    if (step === 2) return 'checkout.session.completed'
    return (step - FIRST_STEPS) % 2 === 0 ? 'customer.subscription.updated' : 'invoice.paid'
  }

  return {
    users,
    prefix: P,
    length,
    build,
    idOf: (index) => {
      const { user, step } = at(index)
      return eventId(user, step)
    },
    typeOf,
    initialSubscription: (user) => subscription(user, 0),
    checkoutSession,
    stripeIds: worldOf,
    expected,
  }
}
