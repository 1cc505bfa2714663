import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import Stripe from 'stripe'
import { REPO_ROOT } from '../../../packages/db/src/migrate.ts'

/** A JSON object as Stripe sends it. */
export type StripeJson = Record<string, any>

/** The Stripe fixtures directory (copied from the steering repository, see its README). */
export const STRIPE_FIXTURES = join(REPO_ROOT, 'packages', 'providers', 'stripe', 'fixtures')

/** A fresh copy of a fixture, e.g. `readStripeFixture('derived/subscription.active.json')`. */
export const readStripeFixture = <T = StripeJson>(path: string): T =>
  JSON.parse(readFileSync(join(STRIPE_FIXTURES, path), 'utf8')) as T

/** The API version the endpoint is pinned to (the SDK's). */
export const ENDPOINT_API_VERSION = Stripe.API_VERSION

/** A random id with Stripe's prefix, e.g. `stripeId('sub')` → `sub_3f9c…`. */
export const stripeId = (prefix: string): string =>
  `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 24)}`

let sequence = 0

/** Event ids that sort in creation order (Tollgate breaks ties of `created` by event id). */
export const eventId = (): string =>
  `evt_T${String(++sequence).padStart(8, '0')}${randomUUID().replaceAll('-', '').slice(0, 14)}`

/** Options of `makeStripeEvent`. */
export type EventOptions = {
  id?: string
  /** Unix seconds (default now). */
  created?: number
  apiVersion?: string | null
  previousAttributes?: StripeJson
  /** The API request that caused it; null (default) when Stripe acted on its own. */
  requestId?: string | null
}

/** A snapshot event around `object`, shaped like the official fixture event.json. */
export const makeStripeEvent = (
  type: string,
  object: StripeJson,
  options: EventOptions = {},
): StripeJson => {
  const envelope = readStripeFixture('event.json')
  return {
    ...envelope,
    id: options.id ?? eventId(),
    api_version: options.apiVersion === undefined ? ENDPOINT_API_VERSION : options.apiVersion,
    created: options.created ?? Math.floor(Date.now() / 1000),
    data: {
      object: structuredClone(object),
      ...(options.previousAttributes ? { previous_attributes: options.previousAttributes } : {}),
    },
    livemode: false,
    pending_webhooks: 1,
    request: { id: options.requestId ?? null, idempotency_key: null },
    type,
  }
}

/** How Stripe serialises a webhook body (pretty JSON). */
export const eventBody = (event: StripeJson): string => JSON.stringify(event, null, 2)

const subtle = Stripe.createSubtleCryptoProvider()

/** A `Stripe-Signature` header for `body`, made with Stripe's real algorithm (HMAC-SHA256). */
export const signStripeBody = (body: string, secret: string, timestamp?: number): Promise<string> =>
  Stripe.webhooks.generateTestHeaderStringAsync({
    payload: body,
    secret,
    timestamp: timestamp ?? Math.floor(Date.now() / 1000),
    cryptoProvider: subtle,
  })

/** A signed webhook request: the exact body and the headers Stripe sends with it. */
export type SignedDelivery = { body: string; headers: Record<string, string> }

/** Signs `event` (an object, or the exact body text) as Stripe delivers it to an endpoint. */
export const signedDelivery = async (
  event: StripeJson | string,
  secret: string,
  options: { timestamp?: number } = {},
): Promise<SignedDelivery> => {
  const body = typeof event === 'string' ? event : eventBody(event)
  return {
    body,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
      'stripe-signature': await signStripeBody(body, secret, options.timestamp),
    },
  }
}
