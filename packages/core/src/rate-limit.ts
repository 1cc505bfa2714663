import type { Context, MiddlewareHandler } from 'hono'
import * as z from 'zod'
import type { AuthEnv } from './auth.ts'
import { type ErrorCode, ErrorCodes } from './errors.ts'
import { ApiError } from './http.ts'

/**
 * The rate-limit state of one counted request, as `tollgate_private.limit_request` answers it:
 * `limit` -1 is unlimited (then `remaining` is null); `reset` is the Unix second the window ends;
 * `retry_after` (seconds) is set when the request was refused.
 */
export const RateState = z.object({
  allowed: z.boolean(),
  limit: z.number().int(),
  remaining: z.number().int().nullable(),
  reset: z.number().int(),
  retry_after: z.number().int().nullable().optional(),
})
export type RateState = z.output<typeof RateState>

/**
 * Sets `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix seconds, as
 * GitHub's API) on the answer being built, error answers included. An unlimited metric has no
 * limit to tell: no headers.
 */
export const setRateLimitHeaders = (c: Context, rate: RateState): void => {
  if (rate.limit === -1) return
  c.header('X-RateLimit-Limit', String(rate.limit))
  c.header('X-RateLimit-Remaining', String(Math.max(rate.remaining ?? 0, 0)))
  c.header('X-RateLimit-Reset', String(rate.reset))
}

/** 429 RATEL with `Retry-After` (seconds to the window's end); call after `setRateLimitHeaders`. */
export const rateLimited = (c: Context, rate: RateState, metric = 'requests'): ApiError => {
  const retryAfter = rate.retry_after ?? Math.max(rate.reset - Math.floor(Date.now() / 1000), 1)
  c.header('Retry-After', String(retryAfter))
  return new ApiError('RATEL', {
    message: `Too many requests: the limit of ${rate.limit} ${metric} an hour is used up`,
    details: { limit: rate.limit, reset: rate.reset, retry_after: retryAfter },
    hint: 'Wait until the window resets, or upgrade the plan.',
  })
}

/**
 * The API key of a request: `x-api-key`, else `Authorization: Bearer tg_...`. Null when neither
 * holds one (a user's JWT in Authorization is not a key).
 */
export const apiKeyOf = (c: Context): string | null => {
  const header = c.req.header('x-api-key')?.trim()
  if (header) return header
  const bearer = /^Bearer\s+(tg_\S+)$/i.exec(c.req.header('authorization') ?? '')
  return bearer?.[1] ?? null
}

/** Who a request counts against: a signed-in user, or the owner of an API key. */
export type RequestCaller = { user_id: string; api_key?: undefined } | { api_key: string; user_id?: undefined }

/** What a limiter answers: the state, and whose request it was (the key's owner for a key). */
export type LimitedRequest = RateState & { user_id: string; key_id: string | null }

/** Counts one request of `caller` against `metric` (checking `scope` for a key) in the database. */
export type RequestLimiter = (
  caller: RequestCaller,
  metric: string,
  scope: string | null,
) => Promise<LimitedRequest>

const LimitedRequest = RateState.extend({ user_id: z.string(), key_id: z.string().nullable() })

const isRegistryCode = (code: unknown): code is ErrorCode =>
  typeof code === 'string' && Object.hasOwn(ErrorCodes, code)

/** A postgres.js-like tagged template (`postgres(SUPABASE_DB_URL)`), connected as the owner. */
export type SqlTag = (
  strings: TemplateStringsArray,
  ...values: never[]
) => PromiseLike<readonly { value?: unknown }[]>

/**
 * A limiter on a direct database connection (postgres.js, as Tollgate's own functions connect):
 * one statement, `tollgate.service_role_limit_request`. Errors (BDKEY, KSCOP) are Postgres errors
 * that `onError` maps.
 */
export const sqlLimiter =
  (sql: SqlTag): RequestLimiter =>
  async (caller, metric, scope) => {
    const query = sql as unknown as (
      strings: TemplateStringsArray,
      ...values: unknown[]
    ) => PromiseLike<readonly { value?: unknown }[]>
    const [row] = await query`select tollgate.service_role_limit_request(${caller.user_id ?? null},
      ${caller.api_key ?? null}, ${metric}, ${scope}) as value`
    return LimitedRequest.parse(row?.value)
  }

/** The part of a supabase-js client (made with the service role key) a limiter uses. */
export type RpcClient = {
  schema: (schema: 'tollgate') => {
    rpc: (
      fn: 'service_role_limit_request',
      args: Record<string, unknown>,
    ) => PromiseLike<{ data: unknown; error: { code?: string; message: string; details?: unknown; hint?: string } | null }>
  }
}

/**
 * A limiter through supabase-js and PostgREST (`createClient(SUPABASE_URL,
 * SUPABASE_SERVICE_ROLE_KEY)`, as an app's own edge functions have). Tollgate's errors keep their
 * code and status; others are 500 INTRN.
 */
export const supabaseLimiter =
  (client: RpcClient): RequestLimiter =>
  async (caller, metric, scope) => {
    const { data, error } = await client.schema('tollgate').rpc('service_role_limit_request', {
      user_id: caller.user_id ?? null,
      api_key: caller.api_key ?? null,
      metric,
      scope,
    })
    if (error) {
      if (isRegistryCode(error.code)) {
        throw new ApiError(error.code, {
          message: error.message,
          details: error.details ?? undefined,
          hint: error.hint ?? undefined,
        })
      }
      throw new ApiError('INTRN', { cause: error })
    }
    return LimitedRequest.parse(data)
  }

/** Variables the middleware sets: the counted request (its state and whose it was). */
export type RateLimitVariables = { rateLimit: LimitedRequest }

/** Options of `rateLimit`. */
export type RateLimitOptions<E extends object> = {
  /** `user`: the signed-in user (after `requireUser`); `key`: the owner of the request's API key. */
  by: 'user' | 'key'
  /** The limiter for this request, e.g. `() => sqlLimiter(sql)` or `() => supabaseLimiter(admin)`. */
  limiter: (c: Context<E>) => RequestLimiter
  /** The hourly metric counted (default `requests`: free 100, pro 1000, enterprise 10000 an hour). */
  metric?: string
  /** With `by: 'key'`: the scope the key must have (KSCOP otherwise). */
  scope?: string
}

/**
 * Hono middleware for an app's own edge functions: counts each request against the caller's
 * hourly limit in Tollgate (one database call), sets the `X-RateLimit-*` headers on every answer,
 * refuses past the limit with 429 RATEL and `Retry-After`, and leaves the counted request in
 * `c.var.rateLimit` (`user_id` is the key's owner with `by: 'key'`). A missing or bad key is
 * 401 BDKEY. A refused request counts nothing.
 */
export const rateLimit = <E extends object = AuthEnv & { Variables: RateLimitVariables }>(
  options: RateLimitOptions<E>,
): MiddlewareHandler<E> =>
  async function rateLimit(c, next) {
    const metric = options.metric ?? 'requests'
    let caller: RequestCaller
    if (options.by === 'user') {
      const user = (c as unknown as Context<AuthEnv>).get('user')
      if (!user) throw new ApiError('NOJWT', { hint: 'Put requireUser before rateLimit({ by: "user" }).' })
      caller = { user_id: user.id }
    } else {
      const key = apiKeyOf(c)
      if (!key) {
        throw new ApiError('BDKEY', { hint: 'Send the key as x-api-key or Authorization: Bearer tg_...' })
      }
      caller = { api_key: key }
    }
    const counted = await options.limiter(c)(caller, metric, options.scope ?? null)
    setRateLimitHeaders(c, counted)
    if (!counted.allowed) throw rateLimited(c, counted, metric)
    ;(c as unknown as Context<{ Variables: RateLimitVariables }>).set('rateLimit', counted)
    await next()
  }
