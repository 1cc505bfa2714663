import Stripe from 'stripe'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFakeStripe, type FakeStripe } from '../../../../tests/helpers/fake-stripe.ts'
import { ApiError } from '../../../core/src/http.ts'
import {
  assertStripeApiVersion,
  createStripeClient,
  idempotencyKey,
  providerError,
  SDK_API_VERSION,
  STRIPE_API_VERSION,
  stripeClientFor,
  stripeFailureOf,
} from './client.ts'

let fake: FakeStripe
beforeAll(async () => {
  fake = await createFakeStripe()
})
afterAll(() => fake.close())

const env = () => ({ STRIPE_SECRET_KEY: 'sk_test_client', STRIPE_API_BASE: fake.url })

describe('stripeClientFor', () => {
  it('makes one client per secret key and API base, and refuses without a key (NOCFG)', () => {
    const client = stripeClientFor(env())
    expect(stripeClientFor(env())).toBe(client)
    expect(stripeClientFor({ ...env(), STRIPE_SECRET_KEY: 'sk_test_other' })).not.toBe(client)
    expect(stripeClientFor({ STRIPE_SECRET_KEY: 'sk_test_client' })).not.toBe(client)
    expect(() => stripeClientFor({ STRIPE_API_BASE: fake.url })).toThrow(
      expect.objectContaining({ code: 'NOCFG', details: { missing: 'STRIPE_SECRET_KEY' } }),
    )
  })
})

describe('createStripeClient', () => {
  it('refuses to run without STRIPE_SECRET_KEY (NOCFG)', () => {
    for (const key of [undefined, '']) {
      let error: unknown
      try {
        createStripeClient({ STRIPE_SECRET_KEY: key })
      } catch (caught) {
        error = caught
      }
      expect(error).toBeInstanceOf(ApiError)
      expect(error).toMatchObject({
        code: 'NOCFG',
        status: 503,
        details: { missing: 'STRIPE_SECRET_KEY' },
      })
    }
  })

  it('refuses a STRIPE_API_BASE that is not scheme://host[:port] (NOCFG)', () => {
    for (const base of ['not a url', 'ftp://127.0.0.1', 'http://127.0.0.1/v1', 'http://h/?x=1']) {
      expect(() => createStripeClient({ STRIPE_SECRET_KEY: 'sk_test_x', STRIPE_API_BASE: base }))
        .toThrow(
          expect.objectContaining({ code: 'NOCFG', details: { invalid: ['STRIPE_API_BASE'] } }),
        )
    }
  })

  it('talks to STRIPE_API_BASE with the pinned API version and our Idempotency-Key', async () => {
    const stripe = createStripeClient(env())
    const key = idempotencyKey('client-test', 'customer', 1)
    const customer = await stripe.customers.create(
      { email: 'someone@example.test', metadata: { user_id: 'u1' } },
      { idempotencyKey: key },
    )
    expect(customer.id).toMatch(/^cus_/)
    expect(fake.requestsTo('POST', '/v1/customers').at(-1)).toMatchObject({
      idempotencyKey: key,
      stripeVersion: STRIPE_API_VERSION,
      params: { email: 'someone@example.test', metadata: { user_id: 'u1' } },
      status: 200,
    })
  })

  it('retries a failed POST up to twice with the same Idempotency-Key', async () => {
    const stripe = createStripeClient(env())
    const key = idempotencyKey('client-test', 'retry')
    fake.fail('POST', '/v1/customers', { status: 500 }, 2)
    const customer = await stripe.customers.create({ email: 'retry@example.test' }, {
      idempotencyKey: key,
    })
    const attempts = fake.state.requests.filter((r) => r.idempotencyKey === key)
    expect(attempts.map((r) => r.status)).toEqual([500, 500, 200])
    expect(customer.email).toBe('retry@example.test')
  })

  it('gives up after two retries and reports the Stripe failure as PROVR', async () => {
    const stripe = createStripeClient(env())
    fake.fail('GET', /^\/v1\/subscriptions\//, { status: 503 }, 3)
    const error = await stripe.subscriptions.retrieve('sub_gives_up').catch((e: unknown) => e)
    expect(fake.requestsTo('GET', '/v1/subscriptions/sub_gives_up')).toHaveLength(3)
    expect(stripeFailureOf(error)).toMatchObject({ type: 'StripeAPIError', status: 503 })
    expect(providerError(error)).toMatchObject({
      code: 'PROVR',
      status: 502,
      details: { provider: 'stripe', status: 503 },
    })
  })

  it('surfaces a Stripe 404 as a failure with its code', async () => {
    const stripe = createStripeClient(env())
    const error = await stripe.subscriptions.retrieve('sub_missing').catch((e: unknown) => e)
    expect(stripeFailureOf(error)).toMatchObject({
      type: 'StripeInvalidRequestError',
      status: 404,
      code: 'resource_missing',
    })
  })

  it('leaves errors that did not come from Stripe as they are', () => {
    const error = new Error('boom')
    expect(providerError(error)).toBe(error)
    expect(stripeFailureOf(error)).toBeNull()
  })
})

describe('the pinned API version', () => {
  it('is the version the SDK pins and the code expects', () => {
    expect(SDK_API_VERSION).toBe(Stripe.API_VERSION)
    expect(STRIPE_API_VERSION).toBe('2026-10-28.endive')
    expect(() => assertStripeApiVersion()).not.toThrow()
  })

  it('refuses another version (TGCFG)', () => {
    expect(() => assertStripeApiVersion('2025-03-31.basil')).toThrow(
      expect.objectContaining({
        code: 'TGCFG',
        details: { expected: STRIPE_API_VERSION, sdk: '2025-03-31.basil' },
      }),
    )
  })
})

describe('idempotencyKey', () => {
  it('is deterministic and keeps parts apart', () => {
    expect(idempotencyKey('checkout', 'abc', 2)).toBe('tollgate:checkout:abc:2')
    expect(idempotencyKey('checkout', 'abc', 2)).toBe(idempotencyKey('checkout', 'abc', 2))
    expect(idempotencyKey('a:b')).not.toBe(idempotencyKey('a', 'b'))
    expect(idempotencyKey('a', null)).toBe('tollgate:a:-')
  })

  it('refuses no parts and keys Stripe would reject', () => {
    expect(() => idempotencyKey()).toThrow(TypeError)
    expect(() => idempotencyKey('x'.repeat(300))).toThrow(TypeError)
  })
})
