import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import Stripe from 'stripe'
import { parseStripeEvent, verifyStripeWebhook } from '../packages/providers/stripe/src/webhook.ts'
import { signedDelivery } from '../tests/helpers/stripe/events.ts'
import { processStats, statsPer } from './lib/cpu.ts'
import { createSchemaDatabase } from './lib/database.ts'
import { createPeerDatabase, PEER_TABLES } from './lib/peer-engine.ts'
import { type Child, startChild } from './lib/webhook-processes.ts'
import { createWebhookStream } from './lib/webhook-stream.ts'
import {
  deliveryLog,
  feed,
  insertWebhookUsers,
  measureWebhookWindow,
  STRIPE_KEY,
  WEBHOOK_SECRET,
  WEBHOOK_USERS,
  type WebhookTarget,
  WRITTEN_TABLES,
} from './lib/webhooks.ts'

// `npx tsx bench/profile-webhooks.ts [--peer | --micro]`: where the webhook server's CPU goes per
// event. CLIENTS=<n> (default 8); EXPERIMENT='<sql>' runs on our database first (what-ifs).
// Not part of the benchmark. Our server (and with --peer stripe-sync-engine's, as in the peer
// figure) takes first deliveries, then duplicates, at 8 clients; V8's sampling profiler runs in
// the server process during each measured window (warm-up and re-warm included) and the samples
// are summed per event delivered meanwhile: by package or file (self time), and by the nearest
// frame of this repository on the stack (its own time plus the synchronous library calls it made).
// Beside it, per event, each system's Postgres: WAL (pg_stat_wal) and commits, and its backends'
// CPU (user, system) and sleeps (times scheduled, voluntary and involuntary switches).

const CLIENTS = Number(process.env.CLIENTS ?? 8)
const WARMUP_MS = 2000
const MEASURE_MS = 8000

const print = (text: string): void => {
  process.stdout.write(`${text}\n`)
}

type ProfileNode = {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const REPO = new URL('../', import.meta.url).href

// What a frame belongs to: a package, a file of this repository, Node's internals, V8.
const categoryOf = (frame: ProfileNode['callFrame']): string => {
  const { url, functionName } = frame
  if (url === '') return functionName.startsWith('(') ? functionName : `(native) ${functionName}`
  const modules = url.lastIndexOf('/node_modules/')
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/')
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url)
  }
  if (url.startsWith('node:')) return url.split('/').slice(0, 3).join('/')
  if (url.startsWith(REPO)) return url.slice(REPO.length)
  return url
}

const isOurs = (frame: ProfileNode['callFrame']): boolean =>
  frame.url.startsWith(REPO) && !frame.url.includes('/node_modules/')

/** Sums a profile's sample time (µs) by category of the sampled frame and by nearest repo frame. */
const summarise = (profile: CpuProfile) => {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id)
  const self = new Map<string, number>()
  const ours = new Map<string, number>()
  let busy = 0
  profile.samples.forEach((id, index) => {
    const node = byId.get(id)
    const us = profile.timeDeltas[index + 1] ?? 0
    if (!node || node.callFrame.functionName === '(idle)') return
    busy += us
    const category = categoryOf(node.callFrame)
    self.set(category, (self.get(category) ?? 0) + us)
    let at: number | undefined = id
    let owner = '(no repo frame: event loop, I/O, GC)'
    while (at !== undefined) {
      const frame = byId.get(at)?.callFrame
      if (frame && isOurs(frame)) {
        owner = `${frame.url.slice(REPO.length)}:${frame.lineNumber + 1} ${frame.functionName || '(anonymous)'}`
        break
      }
      at = parent.get(at)
    }
    ours.set(owner, (ours.get(owner) ?? 0) + us)
  })
  return { busy, self, ours }
}

const table = (title: string, sums: Map<string, number>, events: number, top: number): string[] => [
  title,
  ...[...sums.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => `  ${(us / events).toFixed(1).padStart(7)}  ${name}`),
]

// --micro: the server's steps on the stream's events in this process, one at a time, CPU per
// event (process.cpuUsage, so other tenants of the machine do not count); no database.
const micro = async (): Promise<void> => {
  const users = Array.from(
    { length: WEBHOOK_USERS },
    (_, n) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  )
  const stream = createWebhookStream(users, 40_000)
  // Renewal rounds (subscription.updated and invoice.paid), as most of a measured window.
  const from = 30_000
  const count = 4000
  const deliveries = await Promise.all(
    Array.from({ length: count }, (_, k) =>
      signedDelivery(stream.build(from + k).body, WEBHOOK_SECRET),
    ),
  )
  const header = (k: number) => deliveries[k]?.headers['stripe-signature'] ?? ''
  const body = (k: number) => deliveries[k]?.body ?? ''
  const subtle = Stripe.createSubtleCryptoProvider()
  const sdkNode = Stripe.createNodeCryptoProvider()
  const logDir = mkdtempSync(join(tmpdir(), 'tollgate-profile-micro-'))
  const logFd = openSync(join(logDir, 'log'), 'w')
  const url = 'http://127.0.0.1:54321/functions/v1/stripe-webhook'
  const steps: [string, (k: number) => unknown][] = [
    ['JSON.parse of the body', (k) => JSON.parse(body(k))],
    [
      'verifyStripeWebhook (HMAC, parse, zod), as the function does',
      (k) => verifyStripeWebhook(body(k), header(k), WEBHOOK_SECRET),
    ],
    ['  zod: parseStripeEvent of the parsed event', (k) => parseStripeEvent(JSON.parse(body(k)))],
    [
      '  SDK constructEventAsync, SubtleCrypto HMAC (what the function used until issue 17)',
      (k) => Stripe.webhooks.constructEventAsync(body(k), header(k), WEBHOOK_SECRET, 300, subtle),
    ],
    [
      '  SDK constructEventAsync, Node crypto HMAC (the peer)',
      (k) => Stripe.webhooks.constructEventAsync(body(k), header(k), WEBHOOK_SECRET, 300, sdkNode),
    ],
    [
      'a Request with the body, read as text',
      (k) =>
        new Request(url, { method: 'POST', headers: deliveries[k]?.headers, body: body(k) }).text(),
    ],
    [
      '  the same, re-wrapped once as the local gateway did until issue 17',
      (k) =>
        new Request(
          url.replace('/functions/v1', ''),
          new Request(url, { method: 'POST', headers: deliveries[k]?.headers, body: body(k) }),
        ).text(),
    ],
    [
      'Response.json({ received: true }) read as bytes',
      () => Response.json({ received: true }).arrayBuffer(),
    ],
    [
      'one JSON log line written to a file',
      (k) =>
        writeSync(
          logFd,
          `${JSON.stringify({ time: new Date().toISOString(), level: 'info', event: 'stripe_webhook', event_id: stream.idOf(from + k), type: stream.typeOf(from + k), api_version: '2026-10-28.endive', outcome: 'applied' })}\n`,
        ),
    ],
  ]
  print(
    `in-process steps on ${count} signed renewal events (${Math.round(body(0).length / 100) / 10} KB each), CPU us per event:`,
  )
  for (const [name, step] of steps) {
    for (let k = 0; k < 500; k++) await step(k)
    const before = process.cpuUsage()
    for (let k = 0; k < count; k++) await step(k)
    const used = process.cpuUsage(before)
    print(`  ${((used.user + used.system) / count).toFixed(1).padStart(7)}  ${name}`)
  }
  closeSync(logFd)
  rmSync(logDir, { recursive: true, force: true })
}

const main = async (): Promise<void> => {
  if (process.argv.includes('--micro')) return micro()
  const withPeer = process.argv.includes('--peer')
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-profile-webhooks-'))
  const children: Child[] = []
  const stops: (() => Promise<void>)[] = []
  try {
    const ours = await createSchemaDatabase()
    stops.push(ours.stop)
    const oursSql = postgres(ours.ownerUrl, { max: 1, onnotice: () => {} })
    const oursSuper = postgres(ours.superUrl, { max: 1, onnotice: () => {} })
    stops.push(
      () => oursSql.end(),
      () => oursSuper.end(),
    )
    const users = await insertWebhookUsers(oursSql, WEBHOOK_USERS)
    // EXPERIMENT='<sql>': run as a superuser on our database before measuring (what-ifs).
    if (process.env.EXPERIMENT) await oursSuper.unsafe(process.env.EXPERIMENT)
    await oursSuper`vacuum analyze`
    const stream = createWebhookStream(users, 200_000)
    const stripe = await startChild(
      {
        start: 'stripe',
        subscriptions: users.map((_, user) => stream.initialSubscription(user)),
        checkouts: users.map((_, user) => ({
          session: stream.checkoutSession(user),
          price: 'price_pro_monthly',
        })),
      },
      dir,
    )
    children.push(stripe)
    const server = await startChild(
      {
        start: 'server',
        bindings: {
          DATABASE_URL: ours.ownerUrl,
          STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
          STRIPE_SECRET_KEY: STRIPE_KEY,
          STRIPE_API_BASE: stripe.url,
        },
      },
      dir,
    )
    children.push(server)
    const targets: WebhookTarget[] = [
      {
        label: 'ours',
        endpoint: `${server.url}/functions/v1/stripe-webhook`,
        cluster: ours.cluster,
        superSql: oursSuper,
        tables: WRITTEN_TABLES,
        server,
        stripe,
        log: deliveryLog(stream.length),
        guessRate: 1000,
      },
    ]
    if (withPeer) {
      const theirs = await createPeerDatabase()
      stops.push(theirs.stop)
      const peerSuper = postgres(theirs.superUrl, { max: 1, onnotice: () => {} })
      stops.push(() => peerSuper.end())
      const peer = await startChild(
        {
          start: 'peer',
          bindings: {
            databaseUrl: theirs.url,
            webhookSecret: WEBHOOK_SECRET,
            stripeSecretKey: STRIPE_KEY,
            stripeApiBase: stripe.url,
          },
        },
        dir,
      )
      children.push(peer)
      targets.push({
        label: 'peer',
        endpoint: `${peer.url}/webhooks`,
        cluster: theirs.cluster,
        superSql: peerSuper,
        tables: PEER_TABLES,
        server: peer,
        stripe,
        log: deliveryLog(stream.length),
        guessRate: 1000,
      })
    }
    const timing = { warmupMs: WARMUP_MS, rewarmMs: 300, measureMs: MEASURE_MS }
    for (const target of targets) {
      const first = feed(stream, (taken) => taken)
      // Past the sign-ups (the stream's first 10 rounds) before profiling the steady state.
      await measureWebhookWindow(
        target,
        stream,
        first,
        { clients: CLIENTS, replay: 'first' },
        { ...timing, measureMs: 4000 },
        print,
      )
      let delivered = 0
      const replay = feed(stream, (taken) => taken % delivered)
      for (const replayed of ['first', 'duplicate'] as const) {
        const source = replayed === 'first' ? first : replay
        if (replayed === 'duplicate') delivered = first.taken()
        const file = join(dir, `${target.label}-${replayed}.cpuprofile`)
        const from = source.taken()
        const walOf = async () =>
          (
            await target.superSql<{ bytes: string; records: string; syncs: string; commits: string }[]>`
              select w.wal_bytes::text as bytes, w.wal_records::text as records,
                w.wal_sync::text as syncs,
                (select sum(d.xact_commit) from pg_stat_database d)::text as commits
              from pg_stat_wal w`
          )[0]
        const walBefore = await walOf()
        const procBefore = processStats(target.cluster)
        await target.server.profile('start')
        const row = await measureWebhookWindow(
          target,
          stream,
          source,
          { clients: CLIENTS, replay: replayed },
          timing,
          print,
        )
        await target.server.profile('stop', file)
        const events = source.taken() - from
        const procAfter = processStats(target.cluster)
        const walAfter = await walOf()
        const walPer = (key: 'bytes' | 'records' | 'syncs' | 'commits') =>
          (Number(walAfter?.[key]) - Number(walBefore?.[key])) / events
        const {
          busy,
          self,
          ours: owners,
        } = summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile)
        print('')
        print(
          `${target.label}, ${replayed} deliveries @${CLIENTS}: ${events} events while profiled; ` +
            `main thread busy ${(busy / events).toFixed(0)} us/event (process, all threads, in the ` +
            `window: ${row.serverCpuUs?.toFixed(0)} us/event)`,
        )
        print(
          `  Postgres per event: WAL ${walPer('bytes').toFixed(0)} B in ${walPer('records').toFixed(1)} records, ` +
            `${walPer('commits').toFixed(2)} commits (the statistics queries included), ${walPer('syncs').toFixed(2)} WAL syncs`,
        )
        if (procBefore && procAfter) {
          const b = statsPer(procAfter.backends, procBefore.backends, events)
          const o = statsPer(procAfter.others, procBefore.others, events)
          print(
            `  backends: CPU ${b.cpuUs.toFixed(0)} us (user ${b.userUs.toFixed(0)}, system ${b.systemUs.toFixed(0)}), ` +
              `scheduled ${b.scheduled.toFixed(2)} times (voluntary ${b.voluntary.toFixed(2)}, involuntary ` +
              `${b.involuntary.toFixed(2)}); other processes CPU ${o.cpuUs.toFixed(0)} us`,
          )
        }
        table('  self time by package / file, us per event:', self, events, 22).forEach(print)
        table(
          '  by the nearest frame of this repository, us per event:',
          owners,
          events,
          22,
        ).forEach(print)
        print('')
      }
    }
  } finally {
    for (const child of children) await child.stop()
    for (const stop of stops.reverse()) await stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  process.exitCode = 1
})
