import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { signedDelivery } from '../../tests/helpers/stripe/events.ts'
import { cpuSince, cpuSnapshot } from './cpu.ts'
import type { Cluster } from '../../packages/db/src/cluster.ts'
import type { BenchDatabase } from './database.ts'
import { runPhase, toFigure, type Call } from './measure.ts'
import { type Delivery, webhookClient, type WebhookClient } from './webhook-client.ts'
import { type Child, startChild } from './webhook-processes.ts'
import { createWebhookStream, type WebhookStream } from './webhook-stream.ts'

/** One measured window of the webhook benchmark. */
export type WebhookRow = {
  clients: number
  replay: 'first' | 'duplicate'
  eventsPerSecond: number
  p50Ms: number
  p99Ms: number
  /** Deliveries that started and ended in the window. */
  events: number
  seconds: number
  /** CPU per event in µs over the window: Postgres (all the cluster's processes), ... */
  pgCpuUs: number | null
  /** ... the Node server process (gateway + stripe-webhook), ... */
  serverCpuUs: number | null
  /** ... the fake Stripe API process (checkout events fetch their subscription), ... */
  stripeCpuUs: number | null
  /** ... and the benchmark client (node:http). */
  clientCpuUs: number | null
  /** Events built and signed inside the window because the prepared ones ran out (should be 0). */
  signedInWindow: number
  /** Deliveries in the window by event type (the last of each client's included). */
  mix: Record<string, number>
}

/** Figures of issue 5 item 5 (signed Stripe events POSTed to the local server). */
export type WebhookFigures = {
  measured: true
  /** events/s end to end, p50/p99 ms, per concurrency (8, 32), first delivery and duplicates. */
  rows: WebhookRow[]
  /** Correctness: every event applied exactly once (quick mode asserts this). */
  appliedOnce: boolean
  /** What the correctness checks found. */
  detail: string
  method: {
    users: number
    warmupSeconds: number
    measureSeconds: number
    /** Events delivered once (first pass) and duplicate deliveries, warm-ups included. */
    firstDeliveries: number
    duplicateDeliveries: number
    /** First deliveries the webhook recorded as stale (they arrived after a newer one). */
    stale: number
    /** Where the server runs. */
    server: string
  }
}

/** How the runner calls the webhook benchmark. */
export type WebhookBench = (context: {
  database: BenchDatabase
  quick: boolean
  warmupMs: number
  measureMs: number
  log?: (line: string) => void
  /** Extra node options of the server process (profiling: `--cpu-prof`). */
  serverExecArgv?: string[]
}) => Promise<WebhookFigures>

/** Distinct users whose Stripe lives the stream carries. */
export const WEBHOOK_USERS = 1000

/** Concurrent clients (keep-alive connections) of the measured windows. */
export const WEBHOOK_LEVELS = [8, 32] as const

/** The tables applying a Stripe event writes. */
export const WRITTEN_TABLES = [
  'tollgate_private.webhook_events',
  'tollgate_private.provider_refs',
  'tollgate_private.customers',
  'tollgate_private.audit_log',
  'tollgate_private.usage_counters',
  'tollgate.subscriptions',
  'tollgate.invoices',
]

/** The endpoint secret every system under test verifies deliveries with. */
export const WEBHOOK_SECRET = 'whsec_tollgate_bench'

/** The API key the systems under test send to the fake Stripe. */
export const STRIPE_KEY = 'sk_test_tollgate_bench'
const INSTANCE_ID = '00000000-0000-0000-0000-000000000000'

// The stream is built on demand; it only has to be long enough for the first-delivery windows at
// this rate (far above what 2 cores do), or the run stops with an error.
const MAX_EVENTS_PER_SECOND = 10_000

// Signing is client-side setup: done before each window, in chunks.
const SIGN_CHUNK = 500

/** Deliveries in one order over the stream (first pass, or the replay), prepared ahead. */
export type Feed = {
  /** Deliveries taken so far. */
  taken: () => number
  /** The stream index of the delivery at `position` of this order. */
  indexAt: (position: number) => number
  /** Builds and signs the next `count` deliveries now (outside any window). */
  prepare: (count: number) => Promise<void>
  next: () => Promise<{ index: number; delivery: Delivery }>
  /** Deliveries built on demand since the last call (the prepared ones ran out). */
  takeSignedOnDemand: () => number
}

const sign = (stream: WebhookStream, index: number): Promise<Delivery> =>
  signedDelivery(stream.build(index).body, WEBHOOK_SECRET)

/** A feed over `stream`: the delivery at position p of this order is event `order(p)`. */
export const feed = (stream: WebhookStream, order: (taken: number) => number): Feed => {
  let taken = 0
  let ready: Delivery[] = []
  let readyFrom = 0
  let onDemand = 0
  return {
    taken: () => taken,
    indexAt: order,
    prepare: async (count) => {
      ready = []
      readyFrom = taken
      for (let at = 0; at < count; at += SIGN_CHUNK) {
        const chunk = Array.from({ length: Math.min(SIGN_CHUNK, count - at) }, (_, k) =>
          sign(stream, order(taken + at + k)),
        )
        ready.push(...(await Promise.all(chunk)))
      }
    },
    next: async () => {
      const position = taken++
      const index = order(position)
      const prepared = ready[position - readyFrom]
      if (prepared) return { index, delivery: prepared }
      onDemand++
      return { index, delivery: await sign(stream, index) }
    },
    takeSignedOnDemand: () => {
      const count = onDemand
      onDemand = 0
      return count
    },
  }
}

/** Inserts `count` users into auth.users, with their counters; returns their ids. */
export const insertWebhookUsers = async (
  sql: postgres.Sql,
  count: number,
  emailPrefix = 'bench-webhook-',
): Promise<string[]> => {
  const rows = await sql<{ id: string }[]>`
    insert into auth.users (
      id, instance_id, aud, role, email, encrypted_password, email_confirmed_at,
      raw_app_meta_data, raw_user_meta_data, created_at, updated_at
    )
    select gen_random_uuid(), ${INSTANCE_ID}::uuid, 'authenticated', 'authenticated',
      ${emailPrefix} || g || '@example.test', '', now(),
      '{"provider": "email", "providers": ["email"]}'::jsonb, '{}'::jsonb, now(), now()
    from generate_series(1, ${count}::int) g
    order by g
    returning id::text`
  const ids = rows.map((row) => row.id)
  // Steady state, as for the other figures: their free-plan counters exist.
  await sql`select tollgate_private.sync_usage_counters(u, now()) from unnest(${ids}::uuid[]) u`
  return ids
}

/** Everything the webhook may write for the stream's users, as one digest. */
export const fingerprint = async (sql: postgres.Sql, users: string[]): Promise<string> => {
  const [row] = await sql<{ digest: string; rows: number }[]>`
    with u as (select unnest(${users}::uuid[]) as id)
    select md5(coalesce(string_agg(x, E'\n' order by x), '')) as digest, count(*)::int as rows
    from (
      select s::text as x from tollgate.subscriptions s where s.user_id in (select id from u)
      union all select i::text from tollgate.invoices i where i.user_id in (select id from u)
      union all select c::text from tollgate_private.customers c
        where c.user_id in (select id from u)
      union all select r::text from tollgate_private.provider_refs r where r.provider = 'stripe'
      union all select a::text from tollgate_private.audit_log a
        where a.user_id in (select id from u)
      union all select c::text from tollgate_private.usage_counters c
        where c.user_id in (select id from u)
    ) t`
  return `${row?.digest} (${row?.rows} rows)`
}

type Ledger = {
  event_id: string
  type: string
  attempts: number
  processed: boolean
  outcome: string | null
  error: string | null
}

type SubscriptionRow = {
  user_id: string
  plan_id: string
  status: string
  start: number
  end: number
}

/**
 * Checks the ledger (this stream's events) and the users' state against what was delivered
 * (`deliveries[i]` of event i, every event below `firstDeliveries` at least once); returns the
 * problems.
 */
export const checkApplied = async (
  sql: postgres.Sql,
  stream: WebhookStream,
  users: string[],
  firstDeliveries: number,
  deliveries: Uint16Array,
): Promise<{ problems: string[]; stale: number; summary: string }> => {
  const problems: string[] = []
  const ledger = await sql<Ledger[]>`
    select event_id, type, attempts, processed_at is not null as processed, outcome, error
    from tollgate_private.webhook_events
    where provider = 'stripe' and event_id like ${`evt_${stream.prefix}%`}`
  const byId = new Map(ledger.map((row) => [row.event_id, row]))
  if (ledger.length !== firstDeliveries) {
    problems.push(`${ledger.length} ledger rows for ${firstDeliveries} distinct events delivered`)
  }
  let stale = 0
  let notOnce = 0
  const wrong: string[] = []
  for (let index = 0; index < firstDeliveries; index++) {
    const id = stream.idOf(index)
    const row = byId.get(id)
    const type = stream.typeOf(index)
    const outcomes = type.startsWith('customer.subscription.') ? ['applied', 'stale'] : ['applied']
    if (row?.outcome === 'stale') stale++
    const ok =
      row !== undefined &&
      row.type === type &&
      row.processed &&
      row.error === null &&
      row.outcome !== null &&
      outcomes.includes(row.outcome) &&
      row.attempts === deliveries[index]
    if (!ok) notOnce++
    if (!ok && wrong.length < 5) {
      wrong.push(
        row === undefined
          ? `${id} (${type}) not in the ledger`
          : `${id} (${type}): processed ${row.processed}, outcome ${row.outcome}, error ` +
              `${row.error}, attempts ${row.attempts} for ${deliveries[index]} deliveries`,
      )
    }
  }
  if (notOnce > 0) {
    problems.push(`${notOnce} events not recorded once and processed: ${wrong.join('; ')}`)
  }

  const subscriptions = await sql<SubscriptionRow[]>`
    select user_id::text, plan_id, status,
      extract(epoch from current_period_start)::bigint::int as start,
      extract(epoch from current_period_end)::bigint::int as end
    from tollgate.subscriptions where user_id = any(${users}::uuid[])`
  const invoices = await sql<{ user_id: string; invoices: number; unpaid: number }[]>`
    select user_id::text, count(*)::int as invoices,
      count(*) filter (where status <> 'paid' or amount_paid <> amount_due
        or subscription_id is null)::int as unpaid
    from tollgate.invoices where user_id = any(${users}::uuid[])
    group by user_id`
  const [audit] = await sql<{ repeated: number }[]>`
    select (count(*) - count(distinct reason))::int as repeated
    from tollgate_private.audit_log
    where user_id = any(${users}::uuid[]) and reason like 'stripe:%'`
  const subscriptionsOf = new Map<string, SubscriptionRow[]>()
  for (const row of subscriptions) {
    subscriptionsOf.set(row.user_id, [...(subscriptionsOf.get(row.user_id) ?? []), row])
  }
  const invoicesOf = new Map(invoices.map((row) => [row.user_id, row]))
  const off: string[] = []
  for (const want of stream.expected(firstDeliveries)) {
    const rows = subscriptionsOf.get(want.userId) ?? []
    const invoice = invoicesOf.get(want.userId)
    const sub = rows[0]
    const ok =
      want.planId === null
        ? rows.length === 0 && invoice === undefined
        : rows.length === 1 &&
          sub?.plan_id === want.planId &&
          sub.status === 'active' &&
          sub.start === want.periodStart &&
          sub.end === want.periodEnd &&
          (invoice?.invoices ?? 0) === want.invoices &&
          (invoice?.unpaid ?? 0) === 0
    if (!ok) {
      off.push(
        `${want.userId}: ${JSON.stringify(rows)} invoices ${JSON.stringify(invoice)}, ` +
          `want ${JSON.stringify(want)}`,
      )
    }
  }
  if (off.length > 0) {
    problems.push(`${off.length} users not in the expected state: ${off.slice(0, 2).join('; ')}`)
  }
  if ((audit?.repeated ?? 0) !== 0) {
    problems.push(`${audit?.repeated} audit rows repeat an event (applied twice)`)
  }
  const types = new Set<string>()
  for (let index = 0; index < firstDeliveries; index++) types.add(stream.typeOf(index))
  const summary =
    `${firstDeliveries} events (${[...types].sort().join(', ')}) in the ledger once each, ` +
    `processed, attempts = deliveries (${stale} stale); ${users.length} users' subscriptions ` +
    `and invoices as the newest events say`
  return { problems, stale, summary }
}

type Level = {
  clients: number
  replay: 'first' | 'duplicate'
}

/** What one system's deliveries got: deliveries per stream index, the answers other than 200. */
export type DeliveryLog = { deliveries: Uint16Array; failed: number; failures: string[] }

/** A fresh delivery log for a stream of `length` events. */
export const deliveryLog = (length: number): DeliveryLog => ({
  deliveries: new Uint16Array(length),
  failed: 0,
  failures: [],
})

/** One webhook endpoint under test, and the processes whose CPU its windows count. */
export type WebhookTarget = {
  /** Prefix of its progress lines ("webhooks", "peer: ours", ...). */
  label: string
  endpoint: string
  /** Its Postgres cluster (all of its processes' CPU is counted). */
  cluster: Cluster
  /** A superuser connection to its database (checkpoint, analyze). */
  superSql: postgres.Sql
  /** Tables its deliveries write: analyzed after each warm-up (steady state, see NOTES.md). */
  tables: string[]
  server: Child
  stripe: Child
  log: DeliveryLog
  /** Events per second of its last warm-up, to size the next window's signed deliveries. */
  guessRate: number
}

/** Warm-up, re-warm after signing, and measured window of one webhook window, in ms. */
export type WindowTiming = { warmupMs: number; rewarmMs: number; measureMs: number }

/** Shortens the windows in quick mode (correctness only). */
export const webhookTiming = (
  quick: boolean,
  warmupMs: number,
  measureMs: number,
): WindowTiming => {
  const warm = quick ? Math.min(warmupMs, 250) : warmupMs
  return {
    warmupMs: warm,
    measureMs: quick ? Math.min(measureMs, 500) : measureMs,
    // After the window's deliveries are signed (seconds in full mode), sockets and caches warm again.
    rewarmMs: quick ? 0 : Math.min(warm, 300),
  }
}

/** One call: the feed's next delivery POSTed; true when answered 200. */
export const deliveryCall =
  (client: WebhookClient, source: Feed, log: DeliveryLog): Call =>
  async () => {
    const { index, delivery } = await source.next()
    log.deliveries[index] = (log.deliveries[index] ?? 0) + 1
    const answer = await client.post(delivery)
    if (answer.status === 200) return true
    log.failed++
    if (log.failures.length < 3) log.failures.push(`${answer.status} ${answer.body.slice(0, 300)}`)
    return false
  }

/** Takes every delivery of `source` up to position `count` with `clients` keep-alive clients. */
export const deliverAll = async (
  endpoint: string,
  source: Feed,
  clients: number,
  count: number,
  log: DeliveryLog,
): Promise<void> => {
  const client = webhookClient(endpoint, clients)
  const call = deliveryCall(client, source, log)
  try {
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (source.taken() < count) await call()
      }),
    )
  } finally {
    client.close()
  }
}

const sinceUs = (before: number | null, after: number | null): number | null =>
  before === null || after === null ? null : after - before

/**
 * One measured webhook window of `target` at `clients` keep-alive clients taking deliveries from
 * `source`: checkpoint, warm-up, analyze, deliveries signed, re-warm on new sockets, the window with
 * its CPU use (Postgres, the server and fake Stripe processes, this client); see bench/README.md.
 */
export const measureWebhookWindow = async (
  target: WebhookTarget,
  stream: WebhookStream,
  source: Feed,
  level: { clients: number; replay: 'first' | 'duplicate' },
  timing: WindowTiming,
  log: (line: string) => void,
): Promise<WebhookRow> => {
  const { clients } = level
  const { warmupMs, rewarmMs, measureMs } = timing
  const { superSql, server, stripe } = target
  const calls = (client: WebhookClient) =>
    Array.from({ length: clients }, () => deliveryCall(client, source, target.log))
  await superSql`checkpoint`
  await source.prepare(Math.ceil((target.guessRate * 2 * warmupMs) / 1000) + 100)
  const warmClient = webhookClient(target.endpoint, clients)
  const warm = await runPhase(calls(warmClient), warmupMs).finally(() => warmClient.close())
  // Steady state: the tables the webhook writes were empty when the setup analyzed them, and
  // the server's sessions would keep seq-scan plans until autovacuum's analyze (a minute
  // later) invalidates them; a deployed system has their statistics (see NOTES.md).
  await superSql`analyze ${superSql.unsafe(target.tables.join(', '))}`
  target.guessRate = warm.allCalls / warm.seconds
  // Three times the warm-up's rate: the first warm-up runs before the analyze, on seq-scan
  // plans, at about half the rate of the window after it.
  await source.prepare(Math.ceil((target.guessRate * 3 * (rewarmMs + measureMs)) / 1000) + 500)
  // New sockets: the server closes keep-alive sockets idle for 5 s (signing can take that).
  const client = webhookClient(target.endpoint, clients)
  const measured = await (async () => {
    await runPhase(calls(client), rewarmMs)
    source.takeSignedOnDemand()
    const from = source.taken()
    const pgBefore = cpuSnapshot(target.cluster)
    const serverBefore = server.cpuUs()
    const stripeBefore = stripe.cpuUs()
    const stats = await runPhase(calls(client), measureMs)
    const cpu = cpuSince(target.cluster, pgBefore)
    return {
      from,
      stats,
      pgUs: cpu.serverUs,
      clientUs: cpu.clientUs,
      serverUs: sinceUs(serverBefore, server.cpuUs()),
      stripeUs: sinceUs(stripeBefore, stripe.cpuUs()),
    }
  })().finally(() => client.close())
  const { stats } = measured
  const mix: Record<string, number> = {}
  for (let position = measured.from; position < source.taken(); position++) {
    const type = stream.typeOf(source.indexAt(position))
    mix[type] = (mix[type] ?? 0) + 1
  }
  const perEvent = (us: number | null): number | null =>
    us === null || stats.allCalls === 0 ? null : us / stats.allCalls
  const shown = toFigure(stats)
  const row: WebhookRow = {
    clients,
    replay: level.replay,
    eventsPerSecond: shown.tps,
    p50Ms: shown.p50Ms,
    p99Ms: shown.p99Ms,
    events: stats.calls,
    seconds: stats.seconds,
    pgCpuUs: perEvent(measured.pgUs),
    serverCpuUs: perEvent(measured.serverUs),
    stripeCpuUs: perEvent(measured.stripeUs),
    clientCpuUs: perEvent(measured.clientUs),
    signedInWindow: source.takeSignedOnDemand(),
    mix,
  }
  log(
    `${target.label} (${level.replay}) @${clients}: ${row.eventsPerSecond.toFixed(0)} events/s, ` +
      `p50 ${row.p50Ms.toFixed(2)} ms, p99 ${row.p99Ms.toFixed(2)} ms; CPU us/event pg ` +
      `${row.pgCpuUs?.toFixed(0)}, server ${row.serverCpuUs?.toFixed(0)}, fake Stripe ` +
      `${row.stripeCpuUs?.toFixed(0)}, client ${row.clientCpuUs?.toFixed(0)}`,
  )
  return row
}

/** The webhook benchmark (issue 5 item 5); see bench/README.md. */
export const webhookBench: WebhookBench = async ({
  database,
  quick,
  warmupMs: givenWarmupMs,
  measureMs: givenMeasureMs,
  log = () => {},
  serverExecArgv = [],
}) => {
  // Quick mode checks correctness only; short windows keep it to a few seconds.
  const timing = webhookTiming(quick, givenWarmupMs, givenMeasureMs)
  const { warmupMs, rewarmMs, measureMs } = timing
  const ownerSql = postgres(database.ownerUrl, { max: 1, onnotice: () => {} })
  const superSql = postgres(database.superUrl, { max: 1, onnotice: () => {} })
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-webhooks-'))
  const children: Child[] = []
  try {
    const users = await insertWebhookUsers(ownerSql, WEBHOOK_USERS)
    const firstSeconds = (WEBHOOK_LEVELS.length * (warmupMs + rewarmMs + measureMs)) / 1000
    const stream = createWebhookStream(users, Math.ceil(MAX_EVENTS_PER_SECOND * firstSeconds))

    // The fake Stripe answers the subscription fetch of checkout events with month 0's snapshot.
    const stripe = await startChild(
      { start: 'stripe', subscriptions: users.map((_, user) => stream.initialSubscription(user)) },
      dir,
    )
    children.push(stripe)
    const server = await startChild(
      {
        start: 'server',
        bindings: {
          DATABASE_URL: database.ownerUrl,
          STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
          STRIPE_SECRET_KEY: STRIPE_KEY,
          STRIPE_API_BASE: stripe.url,
        },
      },
      dir,
      serverExecArgv,
    )
    children.push(server)
    log(`webhooks: ${users.length} users; server pid ${server.pid}, fake Stripe pid ${stripe.pid}`)
    const target: WebhookTarget = {
      label: 'webhooks',
      endpoint: `${server.url}/functions/v1/stripe-webhook`,
      cluster: database.cluster,
      superSql,
      tables: WRITTEN_TABLES,
      server,
      stripe,
      log: deliveryLog(stream.length),
      guessRate: 2000,
    }
    const { deliveries } = target.log

    const first = feed(stream, (taken) => {
      if (taken >= stream.length) {
        throw new Error('the webhook stream ran out: raise MAX_EVENTS_PER_SECOND')
      }
      return taken
    })
    let firstDeliveries = 0
    const replay = feed(stream, (taken) => taken % firstDeliveries)
    const measure = (level: Level, source: Feed): Promise<WebhookRow> =>
      measureWebhookWindow(target, stream, source, level, timing, log)

    const rows: WebhookRow[] = []
    for (const clients of WEBHOOK_LEVELS) {
      rows.push(await measure({ clients, replay: 'first' }, first))
    }
    firstDeliveries = first.taken()
    const before = await fingerprint(ownerSql, users)
    for (const clients of WEBHOOK_LEVELS) {
      rows.push(await measure({ clients, replay: 'duplicate' }, replay))
    }
    const after = await fingerprint(ownerSql, users)

    const checked = await checkApplied(ownerSql, stream, users, firstDeliveries, deliveries)
    const problems = [...checked.problems]
    if (target.log.failed > 0) {
      problems.unshift(
        `${target.log.failed} deliveries not answered 200: ${target.log.failures.join('; ')}`,
      )
    }
    if (before !== after) {
      problems.push(`the duplicates changed state: ${before} before, ${after} after`)
    }
    const signed = rows.reduce((n, row) => n + row.signedInWindow, 0)
    const detail =
      problems.length > 0
        ? problems.join('; ')
        : `${checked.summary}; ${replay.taken()} duplicate deliveries answered 200 and changed ` +
          `nothing (${before})` +
          (signed > 0 ? `; ${signed} events were signed inside a window` : '')
    return {
      measured: true,
      rows,
      appliedOnce: problems.length === 0,
      detail,
      method: {
        users: users.length,
        warmupSeconds: warmupMs / 1000,
        measureSeconds: measureMs / 1000,
        firstDeliveries,
        duplicateDeliveries: replay.taken(),
        stale: checked.stale,
        server:
          'functions served by packages/local gateway + serveHttp in a child process ' +
          '(node --import tsx), fake Stripe API in another; client node:http keep-alive',
      },
    }
  } catch (error) {
    for (const child of children) process.stderr.write(`--- ${child.logFile}\n${child.tail()}\n`)
    throw error
  } finally {
    for (const child of children) await child.stop()
    await ownerSql.end()
    await superSql.end()
    rmSync(dir, { recursive: true, force: true })
  }
}
