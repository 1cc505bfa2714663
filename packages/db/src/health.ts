import type { Handler } from 'hono'
import { type Env, envOf } from '../../core/src/env.ts'
import { log } from '../../core/src/log.ts'
import type { Db } from './client.ts'

/** What a function's base path answers to GET: it runs, and whether its database answers. */
export type Health = { ok: true; database: boolean }

/** How long the health check waits for `select 1`, in milliseconds. */
export const HEALTH_TIMEOUT_MS = 3000

const within = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
    promise.then(resolve, reject).finally(() => clearTimeout(timer))
  })

/**
 * `GET /<name>` for uptime checks, without authentication: 200 `{ok: true, database: true}` when
 * `select 1` answers on the function's pool, else 503 `{ok: true, database: false}` (the function
 * runs, its database does not answer or is not configured).
 */
export const healthCheck =
  (dbFor: (env: Env) => Db): Handler =>
  async (c) => {
    let database = false
    try {
      await within(dbFor(envOf(c.env))`select 1`.execute(), HEALTH_TIMEOUT_MS)
      database = true
    } catch (error) {
      log.warn('health_database_down', { error })
    }
    const health: Health = { ok: true, database }
    return c.json(health, database ? 200 : 503)
  }
