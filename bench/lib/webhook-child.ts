/**
 * A process of the webhook benchmark, forked by webhook-processes.ts with an IPC channel:
 * `server` serves the real functions on Node as the local stack does (gateway + serveHttp);
 * `peer` serves stripe-sync-engine's processWebhook behind a minimal node:http server (its POST
 * /webhooks, as its own Fastify app routes it); `stripe` serves the fake Stripe API of the tests.
 * Each answers `{ ready: url }` once listening and exits on `{ stop: true }`.
 */
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { Session } from 'node:inspector/promises'
import type { AddressInfo } from 'node:net'
import type { StripeJson } from '../../tests/helpers/stripe/events.ts'

/** The peer's settings: its database, webhook secret, and the fake Stripe it calls. */
export type PeerBindings = {
  databaseUrl: string
  webhookSecret: string
  stripeSecretKey: string
  stripeApiBase: string
}

/** What the parent sends. */
export type ChildMessage =
  | { start: 'server'; bindings: Record<string, string> }
  | { start: 'peer'; bindings: PeerBindings }
  | {
      start: 'stripe'
      subscriptions: StripeJson[]
      /** Completed Checkout Sessions whose line items the API lists (one of `price` each). */
      checkouts?: { session: StripeJson; price: string }[]
    }
  | { stop: true }
  /** CPU profiling of this process (bench/profile-webhooks.ts): start, or stop into `file`. */
  | { profile: 'start' }
  | { profile: 'stop'; file: string }

/** What the child answers. */
export type ChildAnswer = { ready: string } | { failed: string } | { profiled: string }

const send = (answer: ChildAnswer): void => {
  process.send?.(answer)
}

let stop: (() => Promise<void>) | undefined

const startServer = async (bindings: Record<string, string>): Promise<string> => {
  const [{ gateway, loadFunctions }, { serveHttp }] = await Promise.all([
    import('../../packages/local/src/gateway.ts'),
    import('../../packages/local/src/http.ts'),
  ])
  const apps = await loadFunctions()
  const http = await serveHttp(gateway(apps, bindings), { port: 0 })
  stop = http.stop
  return http.url
}

const startPeer = async (bindings: PeerBindings): Promise<string> => {
  const [{ default: Stripe }, { loadSyncEngine }] = await Promise.all([
    import('stripe'),
    import('./peer-engine.ts'),
  ])
  const { StripeSync } = loadSyncEngine()
  // The library's defaults (as its README configures it): the payload is used as delivered (no
  // revalidateObjectsViaStripeApi, backfillRelatedEntities and autoExpandLists off), pool of 10.
  const sync = new StripeSync({
    poolConfig: { connectionString: bindings.databaseUrl },
    stripeSecretKey: bindings.stripeSecretKey,
    stripeWebhookSecret: bindings.webhookSecret,
  })
  // Its config has no API base; checkout events list their line items from Stripe, so its client
  // is swapped for one with the same settings that calls the fake.
  const base = new URL(bindings.stripeApiBase)
  sync.stripe = new Stripe(bindings.stripeSecretKey, {
    host: base.hostname,
    port: Number(base.port),
    protocol: 'http',
    appInfo: { name: 'Stripe Postgres Sync' },
  })
  // Its Fastify app's route: processWebhook(raw body, Stripe-Signature); 200, or 400 on any error.
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/webhooks') {
        res.writeHead(404).end()
        return
      }
      const signature = req.headers['stripe-signature']
      sync
        .processWebhook(
          Buffer.concat(chunks),
          typeof signature === 'string' ? signature : undefined,
        )
        .then(
          () => {
            res.writeHead(200, { 'content-type': 'application/json' })
            res.end('{"received":true}')
          },
          (error: unknown) => {
            res.writeHead(400, { 'content-type': 'text/plain' })
            res.end(`Webhook Error: ${error instanceof Error ? error.message : 'Unknown error'}`)
          },
        )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  stop = async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await sync.close()
  }
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

// The fake lists a session's line items with new random ids each time; Stripe's ids are stable,
// and the peer stores line items by id (a duplicate delivery must not add rows).
const LINE_ITEMS = /^\/v1\/checkout\/sessions\/([^/]+)\/line_items$/

const startStripe = async (
  subscriptions: StripeJson[],
  checkouts: { session: StripeJson; price: string }[],
): Promise<string> => {
  const [{ createFakeStripe }, { serveFetch }] = await Promise.all([
    import('../../tests/helpers/fake-stripe.ts'),
    import('../../tests/helpers/stripe/node-server.ts'),
  ])
  const fake = await createFakeStripe()
  for (const subscription of subscriptions) {
    fake.state.subscriptions.set(String(subscription.id), subscription)
  }
  for (const { session, price } of checkouts) {
    const id = String(session.id)
    fake.state.checkoutSessions.set(id, session)
    fake.state.checkouts.set(id, {
      lineItems: [{ price, quantity: 1 }],
      subscriptionData: {},
      discounts: [],
    })
  }
  if (checkouts.length === 0) {
    stop = fake.close
    return fake.url
  }
  const served = await serveFetch(async (request) => {
    const response = await fake.app.fetch(request)
    const session = LINE_ITEMS.exec(new URL(request.url).pathname)?.[1]
    if (session === undefined || response.status !== 200) return response
    const list = (await response.json()) as { data: StripeJson[] }
    list.data.forEach((item, index) => {
      item.id = `li_${session.replace(/^cs_(test_)?/, '')}_${index}`
    })
    return Response.json(list)
  })
  stop = async () => {
    await served.close()
    await fake.close()
  }
  return served.url
}

let profiler: Session | undefined

// V8's sampling profiler through the inspector, in this process, at 100 µs.
const profile = async (message: Extract<ChildMessage, { profile: string }>): Promise<string> => {
  if (message.profile === 'start') {
    profiler = new Session()
    profiler.connect()
    await profiler.post('Profiler.enable')
    await profiler.post('Profiler.setSamplingInterval', { interval: 100 })
    await profiler.post('Profiler.start')
    return 'started'
  }
  if (!profiler) throw new Error('not profiling')
  const { profile: taken } = await profiler.post('Profiler.stop')
  profiler.disconnect()
  profiler = undefined
  writeFileSync(message.file, JSON.stringify(taken))
  return message.file
}

process.on('message', (message: ChildMessage) => {
  if ('profile' in message) {
    profile(message).then(
      (done) => send({ profiled: done }),
      (error: unknown) => send({ failed: error instanceof Error ? error.message : String(error) }),
    )
    return
  }
  if ('stop' in message) {
    const done = stop ? stop() : Promise.resolve()
    done.finally(() => process.exit(0))
    return
  }
  const started =
    message.start === 'server'
      ? startServer(message.bindings)
      : message.start === 'peer'
        ? startPeer(message.bindings)
        : startStripe(message.subscriptions, message.checkouts ?? [])
  started.then(
    (url) => send({ ready: url }),
    (error: unknown) =>
      send({ failed: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  )
})

// The parent gone (killed, crashed): nothing else would end this process.
process.on('disconnect', () => process.exit(0))
