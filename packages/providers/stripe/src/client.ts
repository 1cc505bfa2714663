import Stripe from 'stripe'
import { ApiError } from '../../../core/src/http.ts'

/** The Stripe API version Tollgate's code and SQL are written for (stripe@23.1.0 pins it). */
export const STRIPE_API_VERSION = '2026-10-28.endive'

/** The API version the installed SDK pins; requests and the types follow it. */
export const SDK_API_VERSION: string = Stripe.API_VERSION

// Fails to compile when an SDK upgrade moves the pinned version away from STRIPE_API_VERSION.
const pinned: typeof Stripe.API_VERSION = STRIPE_API_VERSION

/** Throws ApiError TGCFG when `version` (default: the SDK's pinned one) is not STRIPE_API_VERSION. */
export const assertStripeApiVersion = (version: string = SDK_API_VERSION): void => {
  if (version !== pinned) {
    throw new ApiError('TGCFG', {
      message: 'The Stripe SDK pins another API version than Tollgate expects',
      details: { expected: STRIPE_API_VERSION, sdk: version },
    })
  }
}

/** The settings `createStripeClient` reads. */
export type StripeEnv = {
  STRIPE_SECRET_KEY?: string | undefined
  STRIPE_API_BASE?: string | undefined
}

/** Options of `createStripeClient`. */
export type StripeClientOptions = {
  /** Automatic retries of failed requests (default 2; POSTs are retried with their Idempotency-Key). */
  maxNetworkRetries?: number
  /** Milliseconds before a request is abandoned (default 20 s: an edge function has little time). */
  timeout?: number
}

type Endpoint = { host: string; port: number; protocol: 'http' | 'https' }

// STRIPE_API_BASE is scheme://host[:port] of a Stripe-compatible API (a fake in tests).
const endpointOf = (base: string): Endpoint => {
  let url: URL
  try {
    url = new URL(base)
  } catch {
    throw new ApiError('NOCFG', { details: { invalid: ['STRIPE_API_BASE'] } })
  }
  const protocol = url.protocol === 'http:' ? 'http' : url.protocol === 'https:' ? 'https' : null
  if (protocol === null || (url.pathname !== '/' && url.pathname !== '') || url.search !== '') {
    throw new ApiError('NOCFG', { details: { invalid: ['STRIPE_API_BASE'] } })
  }
  const port = url.port === '' ? (protocol === 'http' ? 80 : 443) : Number(url.port)
  return { host: url.hostname, port, protocol }
}

/** A Stripe client on the fetch API (Deno and Node alike); ApiError NOCFG (503) without STRIPE_SECRET_KEY. */
export const createStripeClient = (env: StripeEnv, options: StripeClientOptions = {}): Stripe => {
  const key = env.STRIPE_SECRET_KEY
  if (key === undefined || key === '') {
    throw new ApiError('NOCFG', { details: { missing: 'STRIPE_SECRET_KEY' } })
  }
  assertStripeApiVersion()
  const endpoint = env.STRIPE_API_BASE ? endpointOf(env.STRIPE_API_BASE) : {}
  return new Stripe(key, {
    apiVersion: pinned,
    httpClient: Stripe.createFetchHttpClient(),
    maxNetworkRetries: options.maxNetworkRetries ?? 2,
    timeout: options.timeout ?? 20_000,
    telemetry: false,
    ...endpoint,
  })
}

// A client holds only its settings, so one serves every request with the same key and API base.
const clients = new Map<string, Stripe>()

/** `createStripeClient(env)` made once per secret key and API base, then reused; NOCFG as it. */
export const stripeClientFor = (env: StripeEnv): Stripe => {
  const key = `${env.STRIPE_API_BASE ?? ''} ${env.STRIPE_SECRET_KEY ?? ''}`
  let client = clients.get(key)
  if (!client) {
    client = createStripeClient(env)
    clients.set(key, client)
  }
  return client
}

/** Largest Idempotency-Key Stripe accepts. */
export const IDEMPOTENCY_KEY_MAX = 255

/**
 * A deterministic Idempotency-Key from its parts, e.g. `idempotencyKey('checkout', checkoutId)`:
 * the same parts give the same key, so a retried request is applied once by Stripe.
 */
export const idempotencyKey = (...parts: (string | number | null | undefined)[]): string => {
  if (parts.length === 0) throw new TypeError('idempotencyKey needs at least one part')
  // Parts are escaped, so ['a:b'] and ['a', 'b'] never give the same key.
  const key = ['tollgate', ...parts.map((part) => encodeURIComponent(part ?? '-'))].join(':')
  if (key.length > IDEMPOTENCY_KEY_MAX) {
    throw new TypeError(`idempotency key longer than ${IDEMPOTENCY_KEY_MAX} characters`)
  }
  return key
}

/** What Stripe said about a failed request, when the error came from Stripe's API or SDK. */
export type StripeFailure = {
  type: string
  status: number | null
  code: string | null
  param: string | null
  requestId: string | null
}

/** The Stripe error behind `error`, or null when `error` did not come from Stripe. */
export const stripeFailureOf = (error: unknown): StripeFailure | null => {
  if (!(error instanceof Stripe.errors.StripeError)) return null
  return {
    type: error.type,
    status: error.statusCode ?? null,
    code: error.code ?? null,
    param: error.param ?? null,
    requestId: error.requestId ?? null,
  }
}

/** ApiError PROVR (502) for a failed Stripe call; other errors are returned as they are. */
export const providerError = (error: unknown): unknown => {
  const failure = stripeFailureOf(error)
  if (failure === null) return error
  return new ApiError('PROVR', {
    details: { provider: 'stripe', type: failure.type, status: failure.status, code: failure.code },
    cause: error,
  })
}
