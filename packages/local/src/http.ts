import type { Server } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'

/** The local stack's HTTP server. */
export type HttpServer = {
  port: number
  /** `http://127.0.0.1:<port>` */
  url: string
  /** Stops accepting, lets the requests in flight finish, then closes every connection. */
  stop: () => Promise<void>
}

/** One line per request: method, path, status, milliseconds. */
export type AccessLog = (line: string) => void

const pause = (ms: number) => new Promise((done) => setTimeout(done, ms))

/** Serves `fetch` on 127.0.0.1:`port` (0: any free port). */
export const serveHttp = async (
  fetch: (request: Request) => Promise<Response>,
  options: { port: number; log?: AccessLog; drainTimeoutMs?: number },
): Promise<HttpServer> => {
  const { log } = options
  // Without an access log, requests go straight to `fetch` (no URL parsed, no timing).
  const logged = log
    ? async (request: Request): Promise<Response> => {
        const started = performance.now()
        let status = 500
        try {
          const response = await fetch(request)
          status = response.status
          return response
        } finally {
          const { pathname } = new URL(request.url)
          const ms = Math.round(performance.now() - started)
          log(`${request.method} ${pathname} ${status} ${ms}ms`)
        }
      }
    : (request: Request): Promise<Response> => fetch(request)

  const server = createAdaptorServer({
    fetch: logged,
    hostname: '127.0.0.1',
    // Global Request and Response stay Node's own: the functions and the Stripe SDK use them.
    overrideGlobalObjects: false,
  }) as Server
  // Counted until the response is written (or its connection gone), not just until fetch returns.
  let inFlight = 0
  server.on('request', (_request, response) => {
    inFlight += 1
    response.once('close', () => {
      inFlight -= 1
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')

  const stop = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    const deadline = performance.now() + (options.drainTimeoutMs ?? 10_000)
    // Keep-alive connections would hold close() open; each is dropped once nothing is in flight.
    while (inFlight > 0 && performance.now() < deadline) {
      server.closeIdleConnections()
      await pause(20)
    }
    server.closeAllConnections()
    await closed
  }

  return { port: address.port, url: `http://127.0.0.1:${address.port}`, stop }
}
