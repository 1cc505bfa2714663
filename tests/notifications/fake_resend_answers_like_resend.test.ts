import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createFakeResend, type FakeResend } from '../helpers/fake-resend.ts'

// The fake is only worth what its likeness to Resend's documented API is worth: these pin it.
let fake: FakeResend
let clock = Date.parse('2026-12-05T00:00:00Z')
beforeAll(async () => {
  fake = await createFakeResend({ now: () => clock })
})
afterAll(() => fake.close())
beforeEach(() => {
  fake.reset()
  clock = Date.parse('2026-12-05T00:00:00Z')
})

const email = {
  from: 'Tollgate <billing@tollgate.test>',
  to: ['someone@example.test'],
  subject: 'Your payment failed',
  html: '<p>Please update your card.</p>',
  text: 'Please update your card.',
  headers: { 'X-Entity-Ref-ID': 'n-1' },
  tags: [{ name: 'kind', value: 'payment_failed' }],
}

const post = (
  body: unknown,
  headers: Record<string, string> = {},
  path = '/emails',
): Promise<Response> =>
  fetch(`${fake.url}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${fake.apiKey}`,
      'content-type': 'application/json',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })

describe('POST /emails', () => {
  it('answers 200 {id} and records the email with its fields', async () => {
    const res = await post(email)
    expect(res.status).toBe(200)
    const { id } = (await res.json()) as { id: string }
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    expect(res.headers.get('ratelimit-limit')).not.toBeNull()
    expect(fake.sent).toEqual([
      expect.objectContaining({
        id,
        from: email.from,
        to: email.to,
        subject: email.subject,
        html: email.html,
        text: email.text,
        headers: email.headers,
        tags: email.tags,
        idempotencyKey: null,
      }),
    ])
    const read = await fetch(`${fake.url}/emails/${id}`, {
      headers: { authorization: `Bearer ${fake.apiKey}` },
    })
    expect(await read.json()).toMatchObject({ object: 'email', id, subject: email.subject })
  })

  it('takes `to` as one address too', async () => {
    const res = await post({ ...email, to: 'Someone <someone@example.test>' })
    expect(res.status).toBe(200)
    expect(fake.sent[0]?.to).toEqual(['Someone <someone@example.test>'])
  })

  it('refuses a request without a key 401 missing_api_key and a wrong key 403 invalid_api_key', async () => {
    const missing = await fetch(`${fake.url}/emails`, {
      method: 'POST',
      body: JSON.stringify(email),
    })
    expect(missing.status).toBe(401)
    expect(await missing.json()).toEqual({
      statusCode: 401,
      name: 'missing_api_key',
      message: expect.any(String),
    })
    const wrong = await post(email, { authorization: 'Bearer re_wrong' })
    expect(wrong.status).toBe(403)
    expect(await wrong.json()).toMatchObject({ statusCode: 403, name: 'invalid_api_key' })
    expect(fake.sent).toEqual([])
  })

  it.each([
    ['from', 'missing_required_field'],
    ['to', 'missing_required_field'],
    ['subject', 'missing_required_field'],
  ])('refuses a body without `%s` 422 %s', async (field, name) => {
    const body: Record<string, unknown> = { ...email }
    delete body[field]
    const res = await post(body)
    expect(res.status).toBe(422)
    expect(await res.json()).toEqual({
      statusCode: 422,
      name,
      message: `Missing \`${field}\` field.`,
    })
  })

  it.each([
    ['a malformed `to`', { to: ['not-an-address'] }],
    ['a malformed `from`', { from: 'billing at tollgate' }],
    ['more than 50 recipients', { to: Array.from({ length: 51 }, (_, i) => `u${i}@example.test`) }],
    ['neither html nor text', { html: undefined, text: undefined }],
    ['a tag with a space', { tags: [{ name: 'the kind', value: 'x' }] }],
    ['headers that are not strings', { headers: { 'X-Count': 1 } }],
    ['a body that is not an object', ['not', 'an', 'email']],
  ])('refuses %s 422 validation_error', async (_, change) => {
    const body = Array.isArray(change) ? change : { ...email, ...change }
    const res = await post(body)
    expect(res.status).toBe(422)
    expect(await res.json()).toMatchObject({ statusCode: 422, name: 'validation_error' })
    expect(fake.sent).toEqual([])
  })

  it('answers 404 not_found and 405 method_not_allowed elsewhere', async () => {
    expect((await post(email, {}, '/nowhere')).status).toBe(404)
    const put = await fetch(`${fake.url}/emails`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${fake.apiKey}` },
      body: '{}',
    })
    expect(put.status).toBe(405)
    expect(await put.json()).toMatchObject({ name: 'method_not_allowed' })
  })
})

describe('Idempotency-Key', () => {
  it('replays the same id for the same key and body within 24 h without sending again', async () => {
    const first = (await (await post(email, { 'idempotency-key': 'n-1/email' })).json()) as {
      id: string
    }
    // Key order is not part of the payload.
    const reordered = Object.fromEntries(Object.entries(email).reverse())
    const again = await post(reordered, { 'idempotency-key': 'n-1/email' })
    expect(again.status).toBe(200)
    expect(await again.json()).toEqual({ id: first.id })
    expect(fake.sent).toHaveLength(1)
    expect(fake.requests.map((r) => r.replayed)).toEqual([false, true])
  })

  it('sends again once the key is older than 24 h', async () => {
    await post(email, { 'idempotency-key': 'n-2/email' })
    clock += 24 * 60 * 60 * 1000
    const later = await post(email, { 'idempotency-key': 'n-2/email' })
    expect(later.status).toBe(200)
    expect(fake.sent).toHaveLength(2)
  })

  it('refuses the same key with another body 409 invalid_idempotent_request', async () => {
    await post(email, { 'idempotency-key': 'n-3/email' })
    const res = await post({ ...email, subject: 'Another' }, { 'idempotency-key': 'n-3/email' })
    expect(res.status).toBe(409)
    expect(await res.json()).toMatchObject({ statusCode: 409, name: 'invalid_idempotent_request' })
    expect(fake.sent).toHaveLength(1)
  })

  it('refuses the same key while the first request is in flight 409 concurrent_idempotent_requests', async () => {
    fake.fail({ kind: 'delay', ms: 300 })
    const slow = post(email, { 'idempotency-key': 'n-4/email' })
    await new Promise((resolve) => setTimeout(resolve, 100))
    const concurrent = await post(email, { 'idempotency-key': 'n-4/email' })
    expect(concurrent.status).toBe(409)
    expect(await concurrent.json()).toMatchObject({ name: 'concurrent_idempotent_requests' })
    const first = await slow
    expect(first.status).toBe(200)
    const { id } = (await first.json()) as { id: string }
    // Once the first finished, the retry replays its answer.
    expect(await (await post(email, { 'idempotency-key': 'n-4/email' })).json()).toEqual({ id })
    expect(fake.sent).toHaveLength(1)
  })

  it('keeps keys apart per API key', async () => {
    const two = await createFakeResend({ apiKeys: ['re_a', 're_b'] })
    try {
      for (const key of ['re_a', 're_b']) {
        const res = await fetch(`${two.url}/emails`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'idempotency-key': 'same' },
          body: JSON.stringify(email),
        })
        expect(res.status).toBe(200)
      }
      expect(two.sent).toHaveLength(2)
    } finally {
      await two.close()
    }
  })

  it('refuses a key longer than 256 characters 400 invalid_idempotency_key', async () => {
    const res = await post(email, { 'idempotency-key': 'k'.repeat(257) })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ statusCode: 400, name: 'invalid_idempotency_key' })
    expect((await post(email, { 'idempotency-key': 'k'.repeat(256) })).status).toBe(200)
  })
})

describe('rate limit', () => {
  it('refuses past `rateLimit` requests per second per key 429 rate_limit_exceeded, Retry-After 1', async () => {
    let at = Date.parse('2026-12-05T00:00:00Z')
    const limited = await createFakeResend({ rateLimit: 2, now: () => at })
    try {
      const send = () =>
        fetch(`${limited.url}/emails`, {
          method: 'POST',
          headers: { authorization: `Bearer ${limited.apiKey}` },
          body: JSON.stringify(email),
        })
      expect((await send()).status).toBe(200)
      expect((await send()).status).toBe(200)
      const third = await send()
      expect([third.status, third.headers.get('retry-after')]).toEqual([429, '1'])
      expect(await third.json()).toMatchObject({ statusCode: 429, name: 'rate_limit_exceeded' })
      at += 1000
      expect((await send()).status).toBe(200)
      expect(limited.sent).toHaveLength(3)
    } finally {
      await limited.close()
    }
  })
})

describe('injected faults', () => {
  it('answers the next requests 500, 503 and 429 with Retry-After, then works again', async () => {
    fake.fail({ status: 500 })
    fake.fail({ status: 503, retryAfter: 7 })
    fake.fail({ status: 429, retryAfter: 2 })
    const a = await post(email)
    expect(a.status).toBe(500)
    expect(await a.json()).toMatchObject({ statusCode: 500, name: 'application_error' })
    const b = await post(email)
    expect([b.status, b.headers.get('retry-after')]).toEqual([503, '7'])
    const c = await post(email)
    expect([c.status, c.headers.get('retry-after')]).toEqual([429, '2'])
    expect(await c.json()).toMatchObject({ statusCode: 429, name: 'rate_limit_exceeded' })
    expect((await post(email)).status).toBe(200)
    expect(fake.sent).toHaveLength(1)
  })

  it('repeats a fault `times` times', async () => {
    fake.fail({ status: 503 }, 2)
    expect((await post(email)).status).toBe(503)
    expect((await post(email)).status).toBe(503)
    expect((await post(email)).status).toBe(200)
  })

  it('resets the connection without sending', async () => {
    fake.fail({ kind: 'reset' })
    await expect(post(email)).rejects.toThrow()
    expect(fake.sent).toEqual([])
    expect(fake.requests.at(-1)).toMatchObject({ status: 0, error: 'reset' })
  })

  it('hangs without sending until the client gives up', async () => {
    fake.fail({ kind: 'hang' })
    await expect(
      fetch(`${fake.url}/emails`, {
        method: 'POST',
        headers: { authorization: `Bearer ${fake.apiKey}` },
        body: JSON.stringify(email),
        signal: AbortSignal.timeout(200),
      }),
    ).rejects.toThrow()
    expect(fake.sent).toEqual([])
  })

  it('sends but never answers (hang-after-send); the retry with the same key replays the id', async () => {
    fake.fail({ kind: 'hang-after-send' })
    await expect(
      fetch(`${fake.url}/emails`, {
        method: 'POST',
        headers: { authorization: `Bearer ${fake.apiKey}`, 'idempotency-key': 'n-5/email' },
        body: JSON.stringify(email),
        signal: AbortSignal.timeout(200),
      }),
    ).rejects.toThrow()
    expect(fake.sent).toHaveLength(1)
    const retry = await post(email, { 'idempotency-key': 'n-5/email' })
    expect(await retry.json()).toEqual({ id: fake.sent[0]?.id })
    expect(fake.sent).toHaveLength(1)
  })
})
