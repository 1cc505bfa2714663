import { Agent, request } from 'node:http'

/** A webhook delivery ready to send: the exact body and the headers Stripe sends with it. */
export type Delivery = { body: string; headers: Record<string, string> }

/** What the endpoint answered. */
export type Answer = { status: number; body: string }

/** Keep-alive HTTP/1.1 connections to one endpoint, at most `clients` at once. */
export type WebhookClient = {
  post: (delivery: Delivery) => Promise<Answer>
  close: () => void
}

/** A client for `url` (http only) over node:http with `clients` keep-alive sockets. */
export const webhookClient = (url: string, clients: number): WebhookClient => {
  const target = new URL(url)
  const agent = new Agent({ keepAlive: true, maxSockets: clients, maxFreeSockets: clients })
  const post = (delivery: Delivery): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const outgoing = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: { ...delivery.headers, 'content-length': Buffer.byteLength(delivery.body) },
        },
        (incoming) => {
          const chunks: Buffer[] = []
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
          incoming.on('end', () =>
            resolve({
              status: incoming.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          )
          incoming.on('error', reject)
        },
      )
      outgoing.on('error', reject)
      outgoing.end(delivery.body)
    })
  return { post, close: () => agent.destroy() }
}
