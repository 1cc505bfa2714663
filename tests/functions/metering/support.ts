import { type AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import { inject } from 'vitest'
import { app } from '../../../functions/metering/app.ts'
import { poolFor } from '../../../packages/db/src/client.ts'
import { asUser, type Sql, type TestUser } from '../../helpers/db.ts'

/** The function's variables: only its database. */
export const env = { DATABASE_URL: inject('databaseUrl') }

/** An API key made by `user` through tollgate.create_api_key. */
export const makeKey = async (sql: Sql, user: TestUser, scopes = ['consume', 'read']) => {
  const [{ made }] = await asUser(sql, user, (tx) => tx`select tollgate.create_api_key('test', ${scopes}) as made`, { commit: true })
  return made as { id: string; key: string }
}

/** One request to the metering app in-process: status, headers and JSON body. */
export const call = async (path: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: any }> => {
  const response = await app.request(`/metering${path}`, init, env)
  return { status: response.status, headers: response.headers, body: await response.json() }
}

/** The X-RateLimit-* headers and Retry-After of an answer. */
export const rateHeaders = (headers: Headers) => ({
  limit: headers.get('x-ratelimit-limit'),
  remaining: headers.get('x-ratelimit-remaining'),
  reset: headers.get('x-ratelimit-reset'),
  retryAfter: headers.get('retry-after'),
})

/** The metering app on a real port (node:http), for many connections at once. */
export const serveMetering = async (): Promise<{ base: string; stop: () => Promise<void> }> => {
  let server: ServerType | undefined
  const port = await new Promise<number>((resolve) => {
    server = serve({ fetch: (request) => app.fetch(request, env), port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
      resolve(info.port))
  })
  return {
    base: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server!.close(() => resolve())),
  }
}

/** Ends the function's own pool (as poolFor made it for `env`). */
export const endPool = () => poolFor(env, { max: 5, applicationName: 'tollgate-metering' }).end()
