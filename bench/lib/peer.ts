import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { PRO_PRICE } from '../../tests/helpers/stripe/fixtures.ts'
import { createSchemaDatabase } from './database.ts'
import { createPeerDatabase, PEER_SCHEMA, PEER_TABLES, PEER_VERSION } from './peer-engine.ts'
import { type Child, startChild } from './webhook-processes.ts'
import { createWebhookStream, type WebhookStream } from './webhook-stream.ts'
import {
  checkApplied,
  deliverAll,
  type DeliveryLog,
  deliveryLog,
  feed,
  type Feed,
  fingerprint,
  insertWebhookUsers,
  measureWebhookWindow,
  STRIPE_KEY,
  WEBHOOK_LEVELS,
  WEBHOOK_SECRET,
  WEBHOOK_USERS,
  type WebhookRow,
  type WebhookTarget,
  webhookTiming,
  WRITTEN_TABLES,
} from './webhooks.ts'

/** The two systems of the peer figure. */
export type PeerSystem = 'ours' | 'peer'

/** The phases of the peer figure, as keys of bench/results/latest.json's `peer`. */
export const PEER_PHASES = ['first8', 'first32', 'dup8', 'dup32'] as const

/** One phase of the peer figure. */
export type PeerPhase = (typeof PEER_PHASES)[number]

/** Events per second of both systems over the turns of one phase; eventsRatio = ours / peer. */
export type PeerRatio = { ours: number; peer: number; eventsRatio: number }

/** CPU per event over the turns of one phase, in µs: Postgres and the server process. */
export type PeerCpu = {
  oursPgUs: number | null
  peerPgUs: number | null
  oursServerUs: number | null
  peerServerUs: number | null
}

/** One measured window of one system in one turn. */
export type PeerRow = WebhookRow & { system: PeerSystem; turn: number; phase: PeerPhase }

/** The peer figure (issue 17): our stripe-webhook beside stripe-sync-engine on the same stream. */
export type PeerFigures = {
  first8: PeerRatio
  first32: PeerRatio
  dup8: PeerRatio
  dup32: PeerRatio
  cpu: Record<PeerPhase, PeerCpu>
  /** Every window, in the order measured. */
  rows: PeerRow[]
  /** Whether each system passed its correctness checks, and what they found. */
  correct: Record<PeerSystem, boolean>
  detail: Record<PeerSystem, string>
  method: {
    peer: string
    turns: number
    users: number
    warmupSeconds: number
    measureSeconds: number
    /** Events of the shuffled check, each delivered `shuffledCopies` times in a shuffled order. */
    shuffledEvents: number
    shuffledCopies: number
    firstDeliveries: Record<PeerSystem, number>
    duplicateDeliveries: Record<PeerSystem, number>
  }
  /** Wall time of the whole figure, set-up included. */
  seconds: number
}

/** How the runner calls the peer figure. */
export type PeerBench = (context: {
  quick: boolean
  warmupMs: number
  measureMs: number
  log?: (line: string) => void
}) => Promise<PeerFigures>

// The stream is built on demand: long enough for every first-delivery window at this rate.
const MAX_EVENTS_PER_SECOND = 10_000

// Each event of the shuffled check is delivered this many times, at this concurrency.
const SHUFFLED_COPIES = 3
const SHUFFLED_CLIENTS = 32

// The price of every checkout's one line item (the stream's subscriptions start on pro).
const CHECKOUT_PRICE = PRO_PRICE

const phaseOf = (clients: number, replay: 'first' | 'duplicate'): PeerPhase =>
  `${replay === 'first' ? 'first' : 'dup'}${clients}` as PeerPhase

/** A deterministic shuffle of `copies` deliveries of events [0, count) (mulberry32, fixed seed). */
export const shuffledOrder = (count: number, copies: number, seed = 17): Int32Array => {
  const order = new Int32Array(count * copies)
  for (let at = 0; at < order.length; at++) order[at] = at % count
  let state = seed >>> 0
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  for (let at = order.length - 1; at > 0; at--) {
    const other = Math.floor(random() * (at + 1))
    const value = order[at] ?? 0
    order[at] = order[other] ?? 0
    order[other] = value
  }
  return order
}

/** Everything the peer stores, as one digest (its tables whole). */
const peerFingerprint = async (sql: postgres.Sql): Promise<string> => {
  const parts = await Promise.all(
    PEER_TABLES.map(async (table) => {
      const [row] = await sql<{ digest: string; rows: number }[]>`
        select md5(coalesce(string_agg(t::text, E'\n' order by t::text), '')) as digest,
          count(*)::int as rows
        from ${sql.unsafe(table)} t`
      return `${table} ${row?.digest} (${row?.rows})`
    }),
  )
  return parts.join('; ')
}

type PeerSubscription = {
  id: string
  status: string
  customer: string | null
  user_id: string | null
  items: { id: string; price: string | null; start: number | null; end: number | null }[] | null
}

/**
 * The peer's state against the stream's events [0, delivered): per user, the subscription (status
 * active, customer, metadata.user_id), its one live item (the newest price and period), the paid
 * invoices (one per invoice.paid), the completed Checkout Session with its one line item; no rows
 * for users none of whose events were delivered. Returns the problems.
 */
export const checkPeerState = async (
  sql: postgres.Sql,
  stream: WebhookStream,
  delivered: number,
): Promise<string[]> => {
  const s = PEER_SCHEMA
  const subscriptions = await sql<PeerSubscription[]>`
    select s.id, s.status::text as status, s.customer, s.metadata ->> 'user_id' as user_id,
      (select json_agg(json_build_object('id', i.id, 'price', i.price,
          'start', i.current_period_start, 'end', i.current_period_end) order by i.id)
        from ${sql.unsafe(s)}.subscription_items i
        where i.subscription = s.id and not coalesce(i.deleted, false)) as items
    from ${sql.unsafe(s)}.subscriptions s
    where starts_with(s.id, ${`sub_${stream.prefix}`})`
  const invoices = await sql<{ customer: string; invoices: number; unpaid: number }[]>`
    select customer, count(*)::int as invoices,
      count(*) filter (where status::text <> 'paid' or amount_paid <> amount_due)::int as unpaid
    from ${sql.unsafe(s)}.invoices
    where starts_with(id, ${`in_${stream.prefix}`})
    group by customer`
  const checkouts = await sql<{ id: string; status: string | null; prices: string[] | null }[]>`
    select c.id, c.status::text as status,
      (select json_agg(l.price order by l.id) from ${sql.unsafe(s)}.checkout_session_line_items l
        where l.checkout_session = c.id) as prices
    from ${sql.unsafe(s)}.checkout_sessions c
    where starts_with(c.id, ${`cs_test_${stream.prefix}`})`
  const subscriptionOf = new Map(subscriptions.map((row) => [row.id, row]))
  const invoicesOf = new Map(invoices.map((row) => [row.customer, row]))
  const checkoutOf = new Map(checkouts.map((row) => [row.id, row]))
  const off: string[] = []
  let live = 0
  let paid = 0
  let sessions = 0
  stream.expected(delivered).forEach((want, user) => {
    const ids = stream.stripeIds(user)
    const sub = subscriptionOf.get(ids.subscriptionId)
    const invoice = invoicesOf.get(ids.customerId)
    const session = checkoutOf.get(ids.sessionId)
    const item = sub?.items?.[0]
    const ok =
      want.planId === null
        ? sub === undefined && invoice === undefined && session === undefined
        : sub !== undefined &&
          sub.status === 'active' &&
          sub.customer === ids.customerId &&
          sub.user_id === want.userId &&
          sub.items?.length === 1 &&
          item?.id === ids.itemId &&
          item.price === want.priceId &&
          item.start === want.periodStart &&
          item.end === want.periodEnd &&
          (invoice?.invoices ?? 0) === want.invoices &&
          (invoice?.unpaid ?? 0) === 0 &&
          (want.checkout
            ? session?.status === 'complete' &&
              session.prices?.length === 1 &&
              session.prices[0] === CHECKOUT_PRICE
            : session === undefined)
    if (want.planId !== null) live++
    paid += want.invoices
    if (want.checkout) sessions++
    if (!ok) {
      off.push(
        `${ids.subscriptionId}: ${JSON.stringify(sub)} invoices ${JSON.stringify(invoice)} ` +
          `checkout ${JSON.stringify(session)}, want ${JSON.stringify(want)}`,
      )
    }
  })
  const problems: string[] = []
  if (off.length > 0) {
    problems.push(`${off.length} users not in the expected state: ${off.slice(0, 2).join('; ')}`)
  }
  const stored = {
    subscriptions: subscriptions.length,
    invoices: invoices.reduce((n, row) => n + row.invoices, 0),
    sessions: checkouts.length,
  }
  if (stored.subscriptions !== live || stored.invoices !== paid || stored.sessions !== sessions) {
    problems.push(
      `stored ${JSON.stringify(stored)}, want ${JSON.stringify({ subscriptions: live, invoices: paid, sessions })}`,
    )
  }
  return problems
}

/** One system under test in the figure: its target, feeds and checks. */
type Contender = {
  system: PeerSystem
  target: WebhookTarget
  sql: postgres.Sql
  first: Feed
  replay: Feed
  firstDeliveries: number
  /** Digest of its state (before/after the duplicates). */
  fingerprint: () => Promise<string>
  /** Problems of its state after `delivered` events of `stream` (deliveries counted in `log`). */
  check: (stream: WebhookStream, delivered: number, log: DeliveryLog) => Promise<string[]>
}

const pooled = (rows: PeerRow[], value: (row: PeerRow) => number | null): number | null => {
  let weight = 0
  let sum = 0
  for (const row of rows) {
    const v = value(row)
    if (v === null) return null
    weight += row.events
    sum += v * row.events
  }
  return weight === 0 ? null : sum / weight
}

/** Events per second over several windows: their events over their seconds. */
const rateOf = (rows: PeerRow[]): number => {
  const seconds = rows.reduce((n, row) => n + row.seconds, 0)
  return seconds === 0 ? 0 : rows.reduce((n, row) => n + row.events, 0) / seconds
}

/**
 * The peer figure of issue 17 (see bench/README.md): our stripe-webhook and stripe-sync-engine,
 * each on its own fresh durable cluster behind its own server process, take the same signed stream
 * in alternating turns; then each gets the same shuffled copies of a second stream; both are
 * checked on their own tables.
 */
export const peerBench: PeerBench = async ({ quick, warmupMs, measureMs, log = () => {} }) => {
  const started = process.hrtime.bigint()
  const turns = quick ? 1 : 3
  // Three turns of half a figure window each: 1.5 figure windows per phase and system.
  const timing = webhookTiming(quick, warmupMs, quick ? measureMs : measureMs / 2)
  const shuffledEvents = quick ? 600 : 12_000
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-peer-'))
  const stops: (() => Promise<void>)[] = []
  const children: Child[] = []
  try {
    const [ours, theirs] = await Promise.all([createSchemaDatabase(), createPeerDatabase()])
    stops.push(ours.stop, theirs.stop)
    const oursSql = postgres(ours.ownerUrl, { max: 1, onnotice: () => {} })
    const oursSuper = postgres(ours.superUrl, { max: 1, onnotice: () => {} })
    const peerSql = postgres(theirs.url, { max: 1, onnotice: () => {} })
    const peerSuper = postgres(theirs.superUrl, { max: 1, onnotice: () => {} })
    stops.push(...[oursSql, oursSuper, peerSql, peerSuper].map((sql) => () => sql.end()))

    const users = await insertWebhookUsers(oursSql, WEBHOOK_USERS)
    const shuffledUsers = await insertWebhookUsers(oursSql, WEBHOOK_USERS, 'bench-shuffled-')
    await oursSuper`vacuum analyze`
    const firstSeconds =
      (turns * WEBHOOK_LEVELS.length * (timing.warmupMs + timing.rewarmMs + timing.measureMs)) /
      1000
    const stream = createWebhookStream(users, Math.ceil(MAX_EVENTS_PER_SECOND * firstSeconds))
    const shuffled = createWebhookStream(shuffledUsers, shuffledEvents, undefined, 'S')
    const streams = [stream, shuffled]

    // Ours: the fake answers checkout events' subscription fetch with month 0's snapshot.
    const oursStripe = await startChild(
      {
        start: 'stripe',
        subscriptions: streams.flatMap((s) =>
          Array.from({ length: s.users }, (_, user) => s.initialSubscription(user)),
        ),
      },
      dir,
    )
    children.push(oursStripe)
    const oursServer = await startChild(
      {
        start: 'server',
        bindings: {
          DATABASE_URL: ours.ownerUrl,
          STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
          STRIPE_SECRET_KEY: STRIPE_KEY,
          STRIPE_API_BASE: oursStripe.url,
        },
      },
      dir,
    )
    children.push(oursServer)
    // The peer: checkout events list the session's line items (and fetch a price not yet stored).
    const peerStripe = await startChild(
      {
        start: 'stripe',
        subscriptions: [],
        checkouts: streams.flatMap((s) =>
          Array.from({ length: s.users }, (_, user) => ({
            session: s.checkoutSession(user),
            price: CHECKOUT_PRICE,
          })),
        ),
      },
      dir,
    )
    children.push(peerStripe)
    const peerServer = await startChild(
      {
        start: 'peer',
        bindings: {
          databaseUrl: theirs.url,
          webhookSecret: WEBHOOK_SECRET,
          stripeSecretKey: STRIPE_KEY,
          stripeApiBase: peerStripe.url,
        },
      },
      dir,
    )
    children.push(peerServer)
    log(
      `peer: ${users.length} users; ours pid ${oursServer.pid}, stripe-sync-engine ` +
        `${PEER_VERSION} pid ${peerServer.pid}`,
    )

    const contender = (
      system: PeerSystem,
      target: Omit<WebhookTarget, 'log' | 'guessRate' | 'label'>,
      sql: postgres.Sql,
      fingerprintOf: () => Promise<string>,
      check: Contender['check'],
    ): Contender => {
      const self: Contender = {
        system,
        target: {
          ...target,
          label: `peer figure, ${system}`,
          log: deliveryLog(stream.length),
          guessRate: 2000,
        },
        sql,
        first: feed(stream, (taken) => {
          if (taken >= stream.length) {
            throw new Error('the webhook stream ran out: raise MAX_EVENTS_PER_SECOND')
          }
          return taken
        }),
        replay: feed(stream, (taken) => taken % self.firstDeliveries),
        firstDeliveries: 0,
        fingerprint: fingerprintOf,
        check,
      }
      return self
    }
    const contenders: Contender[] = [
      contender(
        'ours',
        {
          endpoint: `${oursServer.url}/functions/v1/stripe-webhook`,
          cluster: ours.cluster,
          superSql: oursSuper,
          tables: WRITTEN_TABLES,
          server: oursServer,
          stripe: oursStripe,
        },
        oursSql,
        () => fingerprint(oursSql, users),
        async (s, delivered, deliveries) =>
          (
            await checkApplied(
              oursSql,
              s,
              s === stream ? users : shuffledUsers,
              delivered,
              deliveries.deliveries,
            )
          ).problems,
      ),
      contender(
        'peer',
        {
          endpoint: `${peerServer.url}/webhooks`,
          cluster: theirs.cluster,
          superSql: peerSuper,
          tables: PEER_TABLES,
          server: peerServer,
          stripe: peerStripe,
        },
        peerSql,
        () => peerFingerprint(peerSql),
        (s, delivered) => checkPeerState(peerSql, s, delivered),
      ),
    ]

    const rows: PeerRow[] = []
    // Alternating turns: ours first in even turns, the peer first in odd ones.
    const inTurns = async (replay: 'first' | 'duplicate') => {
      for (let turn = 0; turn < turns; turn++) {
        const order = turn % 2 === 0 ? contenders : [...contenders].reverse()
        for (const clients of WEBHOOK_LEVELS) {
          for (const c of order) {
            const source = replay === 'first' ? c.first : c.replay
            const row = await measureWebhookWindow(
              c.target,
              stream,
              source,
              { clients, replay },
              timing,
              (line) => log(`${line} (turn ${turn + 1})`),
            )
            rows.push({ ...row, system: c.system, turn: turn + 1, phase: phaseOf(clients, replay) })
          }
        }
      }
    }
    await inTurns('first')
    for (const c of contenders) c.firstDeliveries = c.first.taken()
    const before = await Promise.all(contenders.map((c) => c.fingerprint()))
    await inTurns('duplicate')
    const after = await Promise.all(contenders.map((c) => c.fingerprint()))

    // The shuffled check: the second stream's first events, each delivered several times, in one
    // shuffled order that both systems get.
    const order = shuffledOrder(shuffledEvents, SHUFFLED_COPIES)
    const shuffledLogs = new Map<PeerSystem, DeliveryLog>()
    for (const c of contenders) {
      // Signed on demand (correctness only, nothing is measured here).
      const source = feed(shuffled, (taken) => order[taken] ?? 0)
      const shuffledLog = deliveryLog(shuffled.length)
      shuffledLogs.set(c.system, shuffledLog)
      const t0 = process.hrtime.bigint()
      await deliverAll(c.target.endpoint, source, SHUFFLED_CLIENTS, order.length, shuffledLog)
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9
      log(
        `peer figure, ${c.system}: ${shuffledEvents} events x${SHUFFLED_COPIES} shuffled ` +
          `delivered in ${seconds.toFixed(1)} s (${(order.length / seconds).toFixed(0)} deliveries/s)`,
      )
    }

    const correct = {} as Record<PeerSystem, boolean>
    const detail = {} as Record<PeerSystem, string>
    for (const [index, c] of contenders.entries()) {
      const shuffledLog = shuffledLogs.get(c.system) ?? deliveryLog(0)
      const problems = [
        ...(await c.check(stream, c.firstDeliveries, c.target.log)).map(
          (p) => `measured stream: ${p}`,
        ),
        ...(await c.check(shuffled, shuffledEvents, shuffledLog)).map((p) => `shuffled: ${p}`),
      ]
      for (const [name, failures] of [
        ['measured stream', c.target.log],
        ['shuffled', shuffledLog],
      ] as const) {
        if (failures.failed > 0) {
          problems.unshift(
            `${name}: ${failures.failed} deliveries not answered 200: ${failures.failures.join('; ')}`,
          )
        }
      }
      if (before[index] !== after[index]) {
        problems.push(
          `the duplicates changed state: ${before[index]} before, ${after[index]} after`,
        )
      }
      correct[c.system] = problems.length === 0
      detail[c.system] =
        problems.length > 0
          ? problems.join('; ')
          : `${c.firstDeliveries} first deliveries and ${c.replay.taken()} duplicates answered 200, ` +
            `every user's state as the newest event says, duplicates changed nothing; ` +
            `${shuffledEvents} events x${SHUFFLED_COPIES} shuffled: 0 wrong states`
    }

    const phaseRows = (phase: PeerPhase, system: PeerSystem) =>
      rows.filter((row) => row.phase === phase && row.system === system)
    const ratioOf = (phase: PeerPhase): PeerRatio => {
      const oursRate = rateOf(phaseRows(phase, 'ours'))
      const peerRate = rateOf(phaseRows(phase, 'peer'))
      return {
        ours: oursRate,
        peer: peerRate,
        eventsRatio: peerRate === 0 ? 0 : oursRate / peerRate,
      }
    }
    const cpuOf = (phase: PeerPhase): PeerCpu => ({
      oursPgUs: pooled(phaseRows(phase, 'ours'), (row) => row.pgCpuUs),
      peerPgUs: pooled(phaseRows(phase, 'peer'), (row) => row.pgCpuUs),
      oursServerUs: pooled(phaseRows(phase, 'ours'), (row) => row.serverCpuUs),
      peerServerUs: pooled(phaseRows(phase, 'peer'), (row) => row.serverCpuUs),
    })
    const [oursC, peerC] = contenders
    return {
      first8: ratioOf('first8'),
      first32: ratioOf('first32'),
      dup8: ratioOf('dup8'),
      dup32: ratioOf('dup32'),
      cpu: {
        first8: cpuOf('first8'),
        first32: cpuOf('first32'),
        dup8: cpuOf('dup8'),
        dup32: cpuOf('dup32'),
      },
      rows,
      correct,
      detail,
      method: {
        peer:
          `@supabase/stripe-sync-engine ${PEER_VERSION} (CommonJS build), library defaults: ` +
          'payload used as delivered, pool of 10; checkout events list line items from the fake ' +
          'Stripe API; behind a node:http server in its own process',
        turns,
        users: users.length,
        warmupSeconds: timing.warmupMs / 1000,
        measureSeconds: timing.measureMs / 1000,
        shuffledEvents,
        shuffledCopies: SHUFFLED_COPIES,
        firstDeliveries: { ours: oursC?.firstDeliveries ?? 0, peer: peerC?.firstDeliveries ?? 0 },
        duplicateDeliveries: {
          ours: oursC?.replay.taken() ?? 0,
          peer: peerC?.replay.taken() ?? 0,
        },
      },
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
    }
  } catch (error) {
    for (const child of children) process.stderr.write(`--- ${child.logFile}\n${child.tail()}\n`)
    throw error
  } finally {
    for (const child of children) await child.stop()
    for (const stop of stops.reverse()) await stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
