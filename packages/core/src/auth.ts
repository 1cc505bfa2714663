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

/** Claims of a signed-in Supabase user; other claims are kept as they are. */
export const UserClaims = z.looseObject({
  sub: z.uuid(),
  role: z.literal('authenticated'),
  exp: z.number(),
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

const BEARER = /^Bearer +(\S+) *$/i

/** Verifies `Authorization: Bearer <jwt>` (HS256 secret or the project's JWKS) and sets `c.var.user`. */
export const requireUser = <E extends AuthEnv = AuthEnv>(
  options: AuthOptions | ((c: Context<E>) => AuthOptions),
): MiddlewareHandler<E> =>
  async function requireUser(c, next) {
    const config = typeof options === 'function' ? options(c) : options
    if (!config.jwtSecret && !config.supabaseUrl) {
      throw new ApiError('NOCFG', { details: { missing: 'SUPABASE_JWT_SECRET (or TOLLGATE_JWT_SECRET) or SUPABASE_URL' } })
    }
    const header = c.req.header('authorization')
    if (header === undefined || header.trim() === '') throw noUser()
    const token = BEARER.exec(header)?.[1]
    if (token === undefined) throw invalidToken()
    // Supabase's non-JWT API keys (sb_publishable_…, sb_secret_…) identify an app, not a user.
    if (token.startsWith('sb_')) throw noUser()
    const payload = await verify(token, config)
    // A valid anon or service_role key: nobody is signed in (as auth.uid() is null in SQL: NOJWT).
    if (payload.role !== 'authenticated') throw noUser()
    const claims = UserClaims.safeParse(payload)
    if (!claims.success) throw invalidToken(claims.error)
    c.set('user', { id: claims.data.sub, claims: claims.data })
    await next()
  }
