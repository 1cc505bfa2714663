import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A fetch-style handler, e.g. `app.fetch` of a Hono app. */
export type FetchHandler = (request: Request) => Response | Promise<Response>

/** A handler served on a local port. */
export type Served = { url: string; close: () => Promise<void> }

const headersOf = (incoming: IncomingHttpHeaders): Headers => {
  const headers = new Headers()
  for (const [name, value] of Object.entries(incoming)) {
    if (Array.isArray(value)) { for (const item of value) headers.append(name, item) }
    else if (value !== undefined) headers.set(name, value)
  }
  return headers
}

/** Serves a fetch handler on 127.0.0.1 at a free port with node:http (no adapter dependency). */
export const serveFetch = async (handler: FetchHandler): Promise<Served> => {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      void (async () => {
        try {
          const method = req.method ?? 'GET'
          const body = Buffer.concat(chunks)
          const request = new Request(
            `http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`,
            {
              method,
              headers: headersOf(req.headers),
              body: method === 'GET' || method === 'HEAD' || body.length === 0 ? undefined : body,
            },
          )
          const response = await handler(request)
          const bytes = Buffer.from(await response.arrayBuffer())
          const headers: Record<string, string> = {}
          response.headers.forEach((value, name) => {
            headers[name] = value
          })
          headers['content-length'] = String(bytes.length)
          res.writeHead(response.status, headers)
          res.end(bytes)
        } catch {
          res.writeHead(500, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ error: { type: 'api_error', message: 'fake server failure' } }))
        }
      })()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        // Keep-alive sockets of fetch clients would hold close() open.
        server.closeAllConnections()
      }),
  }
}
