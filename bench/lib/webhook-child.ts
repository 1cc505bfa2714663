/**
 * A process of the webhook benchmark, forked by webhook-processes.ts with an IPC channel:
 * `server` serves the real functions on Node as the local stack does (gateway + serveHttp);
 * `stripe` serves the fake Stripe API of the tests. Each answers `{ ready: url }` once listening
 * and exits on `{ stop: true }`.
 */
import type { StripeJson } from '../../tests/helpers/stripe/events.ts'

/** What the parent sends. */
export type ChildMessage =
  | { start: 'server'; bindings: Record<string, string> }
  | { start: 'stripe'; subscriptions: StripeJson[] }
  | { stop: true }

/** What the child answers. */
export type ChildAnswer = { ready: string } | { failed: string }

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

const startStripe = async (subscriptions: StripeJson[]): Promise<string> => {
  const { createFakeStripe } = await import('../../tests/helpers/fake-stripe.ts')
  const fake = await createFakeStripe()
  for (const subscription of subscriptions) {
    fake.state.subscriptions.set(String(subscription.id), subscription)
  }
  stop = fake.close
  return fake.url
}

process.on('message', (message: ChildMessage) => {
  if ('stop' in message) {
    const done = stop ? stop() : Promise.resolve()
    done.finally(() => process.exit(0))
    return
  }
  const started =
    message.start === 'server' ? startServer(message.bindings) : startStripe(message.subscriptions)
  started.then(
    (url) => send({ ready: url }),
    (error: unknown) =>
      send({ failed: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  )
})

// The parent gone (killed, crashed): nothing else would end this process.
process.on('disconnect', () => process.exit(0))
