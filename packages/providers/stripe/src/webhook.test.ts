import { readFileSync } from 'node:fs'
import Stripe from 'stripe'
import { describe, expect, it } from 'vitest'
import { ApiError } from '../../../core/src/http.ts'
import { parseSignatureHeader, readRawBody, verifyStripeWebhook } from './webhook.ts'

type Vector = {
  secret: string
  timestamp: number
  stripe_signature_header: string
  raw_body: string
  expected_v1_hex: string
  tolerance_seconds: number
  cases: { name: string; now?: number; headers?: string[]; raw_body?: string; expect: string }[]
}

const vector = JSON.parse(
  readFileSync(new URL('../fixtures/webhook-signature-vector.json', import.meta.url), 'utf8'),
) as Vector

const caseOf = (name: string) => {
  const found = vector.cases.find((c) => c.name === name)
  if (!found) throw new Error(`no case ${name}`)
  return found
}

const v1 = `t=${vector.timestamp},v1=${vector.expected_v1_hex}`
const at = (now: number) => ({ now, toleranceSeconds: vector.tolerance_seconds })

const rejection = async (promise: Promise<unknown>): Promise<ApiError> => {
  try {
    await promise
  } catch (error) {
    if (error instanceof ApiError) return error
    throw error
  }
  throw new Error('expected a rejection')
}

describe("Stripe's official signature test vector", () => {
  it('accepts valid_within_tolerance with the header as Stripe sent it', async () => {
    const { now } = caseOf('valid_within_tolerance')
    const event = await verifyStripeWebhook(
      vector.raw_body,
      vector.stripe_signature_header,
      vector.secret,
      at(now ?? 0),
    )
    expect(event).toMatchObject({ id: 'evt_123', type: 'customer.created', created: 1533204620 })
  })

  it('rejects stale_timestamp (BADSG)', async () => {
    const { now } = caseOf('stale_timestamp')
    const error = await rejection(
      verifyStripeWebhook(
        vector.raw_body,
        vector.stripe_signature_header,
        vector.secret,
        at(now ?? 0),
      ),
    )
    expect(error).toMatchObject({ code: 'BADSG', status: 400, details: { reason: 'stale' } })
  })

  it('rejects tampered_body (BADSG)', async () => {
    const { now } = caseOf('tampered_body')
    const error = await rejection(
      verifyStripeWebhook(
        `${vector.raw_body}this_changes_the_json`,
        vector.stripe_signature_header,
        vector.secret,
        at(now ?? 0),
      ),
    )
    expect(error).toMatchObject({ code: 'BADSG', details: { reason: 'mismatch' } })
  })

  it('rejects the body without its trailing newline (BADSG)', async () => {
    const error = await rejection(
      verifyStripeWebhook(vector.raw_body.trimEnd(), v1, vector.secret, at(vector.timestamp)),
    )
    expect(error).toMatchObject({ code: 'BADSG', details: { reason: 'mismatch' } })
  })

  it.each(caseOf('malformed_headers').headers ?? [])(
    'rejects the malformed header %j (BADSG)',
    async (header) => {
      const error = await rejection(
        verifyStripeWebhook(vector.raw_body, header, vector.secret, at(vector.timestamp)),
      )
      expect(error).toMatchObject({ code: 'BADSG', details: { reason: 'malformed' } })
    },
  )

  it('rejects v0_only_header (BADSG)', async () => {
    const v0 = vector.stripe_signature_header.split(',').find((part) => part.startsWith('v0='))
    const error = await rejection(
      verifyStripeWebhook(
        vector.raw_body,
        `t=${vector.timestamp},${v0}`,
        vector.secret,
        at(vector.timestamp),
      ),
    )
    expect(error).toMatchObject({ code: 'BADSG', details: { reason: 'malformed' } })
  })

  it('accepts extra_invalid_v1_alongside_valid_v1', async () => {
    const header = `${v1},v1=${'deadbeef'.repeat(8)}`
    const event = await verifyStripeWebhook(
      vector.raw_body,
      header,
      vector.secret,
      at(vector.timestamp),
    )
    expect(event.id).toBe('evt_123')
  })

  it('computes the vector v1 value with the SDK signer', async () => {
    const header = await Stripe.webhooks.generateTestHeaderStringAsync({
      payload: vector.raw_body,
      secret: vector.secret,
      timestamp: vector.timestamp,
      cryptoProvider: Stripe.createSubtleCryptoProvider(),
    })
    expect(header).toBe(v1)
  })
})

const SECRET = 'whsec_test_generated_headers'
const NOW = 1_900_000_000

const body = (overrides: Record<string, unknown> = {}): string =>
  JSON.stringify({
    id: 'evt_1Generated',
    object: 'event',
    api_version: '2026-10-28.endive',
    created: NOW - 5,
    data: { object: { id: 'cus_1', object: 'customer' } },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'customer.created',
    ...overrides,
  })

const sign = (payload: string, timestamp: number, secret = SECRET): Promise<string> =>
  Stripe.webhooks.generateTestHeaderStringAsync({
    payload,
    secret,
    timestamp,
    cryptoProvider: Stripe.createSubtleCryptoProvider(),
  })

describe('verifyStripeWebhook with generated headers', () => {
  it('accepts a fresh signature and returns the event', async () => {
    const raw = body()
    const event = await verifyStripeWebhook(raw, await sign(raw, NOW), SECRET, { now: NOW })
    expect(event).toEqual(JSON.parse(raw))
  })

  it('accepts signatures up to the tolerance either side of now', async () => {
    const raw = body()
    await expect(verifyStripeWebhook(raw, await sign(raw, NOW - 300), SECRET, { now: NOW }))
      .resolves.toHaveProperty('id')
    await expect(verifyStripeWebhook(raw, await sign(raw, NOW + 300), SECRET, { now: NOW }))
      .resolves.toHaveProperty('id')
  })

  it('rejects a timestamp more than 300 s old (BADSG)', async () => {
    const raw = body()
    const error = await rejection(
      verifyStripeWebhook(raw, await sign(raw, NOW - 301), SECRET, { now: NOW }),
    )
    expect(error).toMatchObject({ code: 'BADSG', details: { reason: 'stale' } })
  })

  it('rejects a timestamp more than 300 s in the future (BADSG)', async () => {
    const raw = body()
    const error = await rejection(
      verifyStripeWebhook(raw, await sign(raw, NOW + 301), SECRET, { now: NOW }),
    )
    expect(error).toMatchObject({ code: 'BADSG', details: { reason: 'future' } })
  })

  it('honours a custom tolerance', async () => {
    const raw = body()
    const error = await rejection(
      verifyStripeWebhook(raw, await sign(raw, NOW - 61), SECRET, {
        now: NOW,
        toleranceSeconds: 60,
      }),
    )
    expect(error).toMatchObject({ code: 'BADSG', details: { reason: 'stale' } })
  })

  it('rejects a signature made with another secret (BADSG)', async () => {
    const raw = body()
    const error = await rejection(
      verifyStripeWebhook(raw, await sign(raw, NOW, 'whsec_someone_else'), SECRET, { now: NOW }),
    )
    expect(error).toMatchObject({ code: 'BADSG', details: { reason: 'mismatch' } })
  })

  it('verifies with each secret its own key: a key imported for one never serves another', async () => {
    const first = 'whsec_rotation_old'
    const second = 'whsec_rotation_new'
    const raw = body()
    const byFirst = await sign(raw, NOW, first)
    const bySecond = await sign(raw, NOW, second)
    for (let round = 0; round < 2; round++) {
      await expect(verifyStripeWebhook(raw, byFirst, first, { now: NOW })).resolves.toBeTruthy()
      await expect(verifyStripeWebhook(raw, bySecond, second, { now: NOW })).resolves.toBeTruthy()
      for (const [header, secret] of [
        [byFirst, second],
        [bySecond, first],
      ] as const) {
        const error = await rejection(verifyStripeWebhook(raw, header, secret, { now: NOW }))
        expect(error).toMatchObject({ code: 'BADSG', details: { reason: 'mismatch' } })
      }
    }
  })

  it('rejects a missing header (BADSG)', async () => {
    for (const header of [undefined, '', '   ']) {
      const error = await rejection(verifyStripeWebhook(body(), header, SECRET, { now: NOW }))
      expect(error).toMatchObject({ code: 'BADSG', details: { reason: 'missing' } })
    }
  })

  it('rejects a header with two timestamps or a non-numeric one (BADSG)', async () => {
    const raw = body()
    const good = await sign(raw, NOW)
    for (const header of [`${good},t=${NOW}`, good.replace(`t=${NOW}`, `t=${NOW}abc`)]) {
      const error = await rejection(verifyStripeWebhook(raw, header, SECRET, { now: NOW }))
      expect(error).toMatchObject({ code: 'BADSG', details: { reason: 'malformed' } })
    }
  })

  it('refuses a signed body that is not JSON (BADEV)', async () => {
    const raw = '{"id": "evt_1", "object": "event",'
    const error = await rejection(
      verifyStripeWebhook(raw, await sign(raw, NOW), SECRET, { now: NOW }),
    )
    expect(error).toMatchObject({ code: 'BADEV', status: 400 })
  })

  it.each([
    ['an id without evt_', { id: 'cus_123' }, ['id']],
    ['a numeric id', { id: 42 }, ['id']],
    ['created as text', { created: '1900000000' }, ['created']],
    ['a fractional created', { created: 1.5 }, ['created']],
    ['no type', { type: undefined }, ['type']],
    ['a type that is not one', { type: 'DROP TABLE' }, ['type']],
    ['data.object missing', { data: {} }, ['data', 'object']],
    ['data.object a string', { data: { object: 'sub_1' } }, ['data', 'object']],
    ['a numeric api_version', { api_version: 20250331 }, ['api_version']],
    ['another object kind', { object: 'list' }, ['object']],
  ])('refuses an envelope with %s (BADEV)', async (_name, overrides, path) => {
    const raw = body(overrides)
    const error = await rejection(
      verifyStripeWebhook(raw, await sign(raw, NOW), SECRET, { now: NOW }),
    )
    expect(error).toMatchObject({ code: 'BADEV', status: 400 })
    expect(error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path })]))
  })

  it('refuses a subscription event whose object has wrong types (BADEV)', async () => {
    const raw = body({
      type: 'customer.subscription.updated',
      data: {
        object: {
          id: 'sub_1',
          object: 'subscription',
          status: 'active',
          cancel_at_period_end: 'yes',
        },
      },
    })
    const error = await rejection(
      verifyStripeWebhook(raw, await sign(raw, NOW), SECRET, { now: NOW }),
    )
    expect(error).toMatchObject({ code: 'BADEV' })
    expect(error.details).toEqual([
      expect.objectContaining({ path: ['data', 'object', 'cancel_at_period_end'] }),
    ])
  })
})

describe('parseSignatureHeader', () => {
  it('reads the timestamp and every v1 signature', () => {
    expect(parseSignatureHeader('t=12,v1=aa,v0=bb,v1=cc')).toEqual({
      timestamp: 12,
      v1: ['aa', 'cc'],
    })
  })

  it('answers null without exactly one numeric t', () => {
    expect(parseSignatureHeader('v1=aa')).toBeNull()
    expect(parseSignatureHeader('t=1,t=2,v1=aa')).toBeNull()
    expect(parseSignatureHeader('t=-1,v1=aa')).toBeNull()
    expect(parseSignatureHeader('t=1e9,v1=aa')).toBeNull()
  })
})

describe('readRawBody', () => {
  it('returns the exact text', async () => {
    const text = '{"a":"é\\n"}\n'
    await expect(readRawBody(new Request('http://x/', { method: 'POST', body: text }))).resolves
      .toBe(text)
  })

  it('refuses a body over the limit even without Content-Length (TOOBG)', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(100))
        controller.close()
      },
    })
    const request = new Request(
      'http://x/',
      { method: 'POST', body: stream, duplex: 'half' } as RequestInit,
    )
    const error = await rejection(readRawBody(request, 256))
    expect(error).toMatchObject({ code: 'TOOBG', status: 413, details: { limit: 256 } })
  })

  it('refuses a declared Content-Length over the limit before reading (TOOBG)', async () => {
    const request = new Request('http://x/', {
      method: 'POST',
      body: 'x',
      headers: { 'content-length': '999999' },
    })
    await expect(readRawBody(request, 256)).rejects.toHaveProperty('code', 'TOOBG')
  })
})
