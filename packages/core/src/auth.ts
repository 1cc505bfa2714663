import type { Context, MiddlewareHandler } from 'hono'
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from 'jose'
import * as z from 'zod'
import type { Env } from './env.ts'
import { ApiError } from './http.ts'

/** The longest life an access token may have: Supabase Auth's largest JWT expiry, one week. */
export const MAX_TOKEN_LIFETIME_SECONDS = 7 * 24 * 3600

const CLOCK_SKEW_SECONDS = 300

/** The audience Supabase Auth gives access tokens of signed-in users. */
export const USER_AUDIENCE = 'authenticated'

/** Claims of a signed-in Supabase user; other claims are kept as they are. */
export const UserClaims = z.looseObject({
  sub: z.uuid(),
  role: z.literal('authenticated'),
  aud: z.union([
    z.literal(USER_AUDIENCE),
    z.array(z.string()).refine((aud) => aud.includes(USER_AUDIENCE)),
  ]),
  iss: z.string().optional(),
  iat: z.number(),
  exp: z.number(),
  is_anonymous: z.boolean().optional(),
})

/** Verified claims of a signed-in user. */
export type UserClaims = z.output<typeof UserClaims>

/** The signed-in user `requireUser` puts on the context. */
export type AuthUser = { id: string; claims: UserClaims }

/** Context variables set by `requireUser`. */
export type AuthVariables = { user: AuthUser }

/** Hono env of routes behind `requireUser`. */
export type AuthEnv = { Variables: AuthVariables }

/** Where keys come from: the HS256 secret and/or the project URL (JWKS). */
export type AuthOptions = { jwtSecret?: string | undefined; supabaseUrl?: string | undefined }

/**
 * How the environment says to verify tokens: the HS256 secret (SUPABASE_JWT_SECRET, else
 * TOLLGATE_JWT_SECRET, the name `supabase secrets set` accepts: it refuses SUPABASE_*) and/or the
 * project's JWKS at SUPABASE_URL.
 */
export const authOptionsOf = (
  env: Pick<Env, 'SUPABASE_JWT_SECRET' | 'TOLLGATE_JWT_SECRET' | 'SUPABASE_URL'>,
): AuthOptions => ({
  jwtSecret: env.SUPABASE_JWT_SECRET ?? env.TOLLGATE_JWT_SECRET,
  supabaseUrl: env.SUPABASE_URL,
})

type RemoteJwks = ReturnType<typeof createRemoteJWKSet>

// One set per URL: jose caches the keys inside it and refetches on an unknown `kid`.
const jwksByUrl = new Map<string, RemoteJwks>()

const jwksFor = (supabaseUrl: string): RemoteJwks => {
  const url = `${supabaseUrl.replace(/\/+$/, '')}/auth/v1/.well-known/jwks.json`
  let jwks = jwksByUrl.get(url)
  if (!jwks) {
    jwks = createRemoteJWKSet(new URL(url))
    jwksByUrl.set(url, jwks)
  }
  return jwks
}

const SECRET_ALGORITHMS = ['HS256']
const JWKS_ALGORITHMS = ['RS256', 'ES256']

// jose errors that say the token is bad; others (JWKS unreachable, timeout) are our failure.
const TOKEN_ERRORS = new Set([
  errors.JWTClaimValidationFailed.code,
  errors.JWTExpired.code,
  errors.JWTInvalid.code,
  errors.JWSInvalid.code,
  errors.JWSSignatureVerificationFailed.code,
  errors.JOSEAlgNotAllowed.code,
  errors.JOSENotSupported.code,
  errors.JWKSNoMatchingKey.code,
  errors.JWKSMultipleMatchingKeys.code,
])

const invalidToken = (cause?: unknown): ApiError => new ApiError('BDJWT', { cause })

const noUser = (): ApiError => new ApiError('NOJWT')

const headerOf = (token: string): ProtectedHeaderParameters => {
  try {
    return decodeProtectedHeader(token)
  } catch (cause) {
    throw invalidToken(cause)
  }
}

const verify = async (token: string, options: AuthOptions): Promise<JWTPayload> => {
  const { alg } = headerOf(token)
  try {
    if (alg !== undefined && SECRET_ALGORITHMS.includes(alg) && options.jwtSecret) {
      const secret = new TextEncoder().encode(options.jwtSecret)
      const verified = await jwtVerify(token, secret, {
        algorithms: SECRET_ALGORITHMS,
        requiredClaims: ['exp'],
      })
      return verified.payload
    }
    if (alg !== undefined && JWKS_ALGORITHMS.includes(alg) && options.supabaseUrl) {
      const verified = await jwtVerify(token, jwksFor(options.supabaseUrl), {
        algorithms: JWKS_ALGORITHMS,
        requiredClaims: ['exp'],
      })
      return verified.payload
    }
  } catch (error) {
    if (error instanceof errors.JOSEError && TOKEN_ERRORS.has(error.code)) throw invalidToken(error)
    throw error
  }
  // alg none, or an algorithm whose key is not configured.
  throw invalidToken()
}

/** The issuer of the project's access tokens when SUPABASE_URL is known: `${SUPABASE_URL}/auth/v1`. */
export const issuerOf = (supabaseUrl: string | undefined): string | undefined =>
  supabaseUrl ? `${supabaseUrl.replace(/\/+$/, '')}/auth/v1` : undefined

// A user's token: issued by the project (when known), not for a longer life than Supabase gives
// (a token that outlives its session's revocation by years is a stolen key).
const checkUserClaims = (claims: UserClaims, options: AuthOptions, now: number): void => {
  const issuer = issuerOf(options.supabaseUrl)
  if (issuer !== undefined && claims.iss !== issuer) {
    throw invalidToken(new Error(`the token's issuer is not ${issuer}`))
  }
  const lifetime = claims.exp - claims.iat
  // Five minutes of leeway for a clock behind Auth's on a week-long token.
  const ahead = claims.exp - now - CLOCK_SKEW_SECONDS
  if (lifetime > MAX_TOKEN_LIFETIME_SECONDS || ahead > MAX_TOKEN_LIFETIME_SECONDS) {
    throw invalidToken(new Error('the token lives longer than a week'))
  }
}

const BEARER = /^Bearer +(\S+) *$/i

// The keys to verify with, from the options or the request's environment; none configured: NOCFG.
const configOf = <E extends object>(
  c: Context<E>,
  options: AuthOptions | ((c: Context<E>) => AuthOptions),
): AuthOptions => {
  const config = typeof options === 'function' ? options(c) : options
  if (!config.jwtSecret && !config.supabaseUrl) {
    throw new ApiError('NOCFG', {
      details: { missing: 'SUPABASE_JWT_SECRET (or TOLLGATE_JWT_SECRET) or SUPABASE_URL' },
    })
  }
  return config
}

// The token of `Authorization: Bearer <token>`: none 401 NOJWT, another shape 401 BDJWT.
const bearerOf = (c: Context): string => {
  const header = c.req.header('authorization')
  if (header === undefined || header.trim() === '') throw noUser()
  const token = BEARER.exec(header)?.[1]
  if (token === undefined) throw invalidToken()
  return token
}

/**
 * Verifies `Authorization: Bearer <jwt>` (HS256 secret or the project's JWKS) and sets `c.var.user`:
 * a signed-in user's token (role and audience `authenticated`, issuer `${SUPABASE_URL}/auth/v1`
 * when SUPABASE_URL is set, `iat` and `exp` at most a week apart and ahead), else 401 BDJWT; anon
 * and service_role keys 401 NOJWT; anonymous Supabase users (`is_anonymous`) 403 ANONY.
 */
export const requireUser = <E extends AuthEnv = AuthEnv>(
  options: AuthOptions | ((c: Context<E>) => AuthOptions),
): MiddlewareHandler<E> =>
  async function requireUser(c, next) {
    const config = configOf(c, options)
    const token = bearerOf(c)
    // Supabase's non-JWT API keys (sb_publishable_…, sb_secret_…) identify an app, not a user.
    if (token.startsWith('sb_')) throw noUser()
    const payload = await verify(token, config)
    // A valid anon or service_role key: nobody is signed in (as auth.uid() is null in SQL: NOJWT).
    if (payload.role !== 'authenticated') throw noUser()
    const claims = UserClaims.safeParse(payload)
    if (!claims.success) throw invalidToken(claims.error)
    checkUserClaims(claims.data, config, Math.floor(Date.now() / 1000))
    // Anyone can become one without an account, as often as they like: no billing for them.
    if (claims.data.is_anonymous === true) throw new ApiError('ANONY')
    c.set('user', { id: claims.data.sub, claims: claims.data })
    await next()
  }

/**
 * Verifies `Authorization: Bearer <jwt>` as `requireUser` does and lets only the service role's
 * key through (the worker and scheduler routes): no token 401 NOJWT, a bad one 401 BDJWT, any other
 * role's valid token (a user's, the anon key) 403 NOADM.
 */
export const requireServiceRole = <E extends object = object>(
  options: AuthOptions | ((c: Context<E>) => AuthOptions),
): MiddlewareHandler<E> =>
  async function requireServiceRole(c, next) {
    const config = configOf(c, options)
    const token = bearerOf(c)
    // Supabase's opaque secret keys (sb_secret_…) cannot be verified here: use the JWT key.
    if (token.startsWith('sb_')) throw invalidToken(new Error('an opaque API key, not a JWT'))
    const payload = await verify(token, config)
    if (payload.role !== 'service_role') {
      throw new ApiError('NOADM', { message: 'Only the service role may call this' })
    }
    await next()
  }

/** True when the verified user's `app_metadata.role` is `admin` (as tollgate_private.is_admin). */
export const isAdminUser = (user: AuthUser): boolean => {
  const metadata = user.claims.app_metadata
  return (
    typeof metadata === 'object' &&
    metadata !== null &&
    (metadata as Record<string, unknown>).role === 'admin'
  )
}

/** Lets only admins through (after `requireUser`): others 403 NOADM. */
export const requireAdmin = <E extends AuthEnv = AuthEnv>(): MiddlewareHandler<E> =>
  async function requireAdmin(c, next) {
    if (!isAdminUser(c.get('user'))) throw new ApiError('NOADM')
    await next()
  }
