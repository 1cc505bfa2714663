import type { MiddlewareHandler } from 'hono'
import { cors } from 'hono/cors'
import { type Env, envOf } from './env.ts'

/** Request headers a browser may send: what supabase-js sends, and `x-api-key`. */
export const CORS_ALLOWED_HEADERS = [
  'authorization',
  'apikey',
  'content-type',
  'x-client-info',
  'x-region',
  'x-api-key',
]

/** Response headers a page may read besides the simple ones. */
export const CORS_EXPOSED_HEADERS = [
  'X-RateLimit-Limit',
  'X-RateLimit-Remaining',
  'X-RateLimit-Reset',
  'Retry-After',
]

/** The browser origins that may call the functions: TOLLGATE_ALLOWED_ORIGINS, else TOLLGATE_REDIRECT_ORIGINS. */
export const allowedOrigins = (
  env: Pick<Env, 'TOLLGATE_ALLOWED_ORIGINS' | 'TOLLGATE_REDIRECT_ORIGINS'>,
): readonly string[] => env.TOLLGATE_ALLOWED_ORIGINS ?? env.TOLLGATE_REDIRECT_ORIGINS ?? []

// Reached only for an allowed origin, which it echoes.
const answerAllowedOrigin = cors({
  origin: (origin) => origin,
  allowMethods: ['GET', 'POST', 'OPTIONS'],
  allowHeaders: CORS_ALLOWED_HEADERS,
  exposeHeaders: CORS_EXPOSED_HEADERS,
  maxAge: 600,
})

/**
 * CORS for the origins of `allowedOrigins(env)`, read per request (Hono's `c.env` over the
 * runtime's). Mount it first: it answers their preflight (204) before any authentication, and
 * every answer to them, errors included, carries Access-Control-Allow-Origin. Other origins get
 * no Access-Control-* header and go on as if they had sent none (their preflight meets the auth).
 */
export const browserAccess = (): MiddlewareHandler =>
  async function browserAccess(c, next) {
    const origin = c.req.header('origin')
    if (origin !== undefined && allowedOrigins(envOf(c.env)).includes(origin)) {
      return answerAllowedOrigin(c, next)
    }
    await next()
    c.header('Vary', 'Origin', { append: true })
  }
