import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  classifyFailure,
  parseRetryAfter,
  sendEmail,
  type SendEmailInput,
} from '../../packages/providers/resend/src/index.ts'
import { createFakeResend, type FakeResend } from '../helpers/fake-resend.ts'

let fake: FakeResend
beforeAll(async () => {
  fake = await createFakeResend()
})
afterAll(() => fake.close())
beforeEach(() => fake.reset())

let serial = 0
const input = (change: Partial<SendEmailInput> = {}): SendEmailInput => ({
  apiKey: fake.apiKey,
  apiBase: fake.url,
  idempotencyKey: `notification/${++serial}`,
  from: 'Tollgate <billing@tollgate.test>',
  to: 'someone@example.test',
  subject: 'Your payment failed',
  html: '<p>Please update your card.</p>',
  text: 'Please update your card.',
  timeoutMs: 2_000,
  ...change,
})

describe('sendEmail', () => {
  it('sends through RESEND_API_BASE with the key, the Idempotency-Key and every field', async () => {
    const result = await sendEmail(
      input({ idempotencyKey: 'n-1', tags: [{ name: 'kind', value: 'payment_failed' }] }),
    )
    expect(result).toEqual({ ok: true, messageId: fake.sent[0]?.id })
    expect(fake.sent[0]).toMatchObject({
      to: ['someone@example.test'],
      subject: 'Your payment failed',
      html: '<p>Please update your card.</p>',
      text: 'Please update your card.',
      tags: [{ name: 'kind', value: 'payment_failed' }],
      idempotencyKey: 'n-1',
      apiKey: fake.apiKey,
    })
    expect(fake.requests[0]?.authorization).toBe(`Bearer ${fake.apiKey}`)
  })

  it('sending the same email twice with one key sends once and answers the same id', async () => {
    const first = await sendEmail(input({ idempotencyKey: 'n-2' }))
    const again = await sendEmail(input({ idempotencyKey: 'n-2' }))
    expect(again).toEqual(first)
    expect(fake.sent).toHaveLength(1)
  })

  it('accepts an API base with a trailing slash', async () => {
    expect(await sendEmail(input({ apiBase: `${fake.url}/` }))).toMatchObject({ ok: true })
  })

  it('is dead without an API key, sending nothing', async () => {
    expect(await sendEmail(input({ apiKey: '' }))).toMatchObject({ ok: false, retry: false })
    expect(fake.requests).toEqual([])
  })

  it.each([
    ['a wrong key (403 invalid_api_key)', { apiKey: 're_wrong' }, 403],
    ['a malformed address (422 validation_error)', { to: 'nobody' }, 422],
    ['an Idempotency-Key over 256 characters (400 invalid_idempotency_key)', {
      idempotencyKey: 'k'.repeat(257),
    }, 400],
  ])('is dead on %s', async (_, change, status) => {
    const result = await sendEmail(input(change))
    expect(result).toMatchObject({ ok: false, retry: false, status })
    expect(result).not.toHaveProperty('retryAfterSeconds')
  })

  it('is dead on 409 invalid_idempotent_request (the same key with another body)', async () => {
    await sendEmail(input({ idempotencyKey: 'n-3' }))
    const result = await sendEmail(input({ idempotencyKey: 'n-3', subject: 'Something else' }))
    expect(result).toMatchObject({ ok: false, retry: false, status: 409 })
    expect(result.ok === false && result.error).toContain('invalid_idempotent_request')
  })

  it('retries 409 concurrent_idempotent_requests (the first request with the key is running)', async () => {
    fake.fail({ kind: 'delay', ms: 500 })
    const slow = sendEmail(input({ idempotencyKey: 'n-4' }))
    await new Promise((resolve) => setTimeout(resolve, 150))
    const concurrent = await sendEmail(input({ idempotencyKey: 'n-4' }))
    expect(concurrent).toMatchObject({ ok: false, retry: true, status: 409 })
    expect(await slow).toMatchObject({ ok: true })
    expect(fake.sent).toHaveLength(1)
  })

  it.each([
    [500, undefined],
    [502, undefined],
    [503, 30],
    [408, undefined],
    [429, 2],
  ])('retries %i, honouring Retry-After %s', async (status, retryAfter) => {
    fake.fail({ status, ...(retryAfter !== undefined ? { retryAfter } : {}) })
    const result = await sendEmail(input())
    expect(result).toEqual({
      ok: false,
      retry: true,
      status,
      error: expect.any(String),
      ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
    })
    expect(fake.sent).toEqual([])
  })

  it('retries a 429 daily_quota_exceeded with its Retry-After as an HTTP date', async () => {
    fake.fail({
      status: 429,
      name: 'daily_quota_exceeded',
      retryAfter: new Date(Date.now() + 120_000).toUTCString(),
    })
    const result = await sendEmail(input())
    expect(result).toMatchObject({ ok: false, retry: true, status: 429 })
    const seconds = result.ok ? 0 : result.retryAfterSeconds ?? 0
    expect(seconds).toBeGreaterThanOrEqual(118)
    expect(seconds).toBeLessThanOrEqual(121)
  })

  it('retries a reset connection', async () => {
    fake.fail({ kind: 'reset' })
    expect(await sendEmail(input())).toMatchObject({ ok: false, retry: true })
    expect(fake.sent).toEqual([])
  })

  it('retries when nothing listens at the API base', async () => {
    const gone = await createFakeResend()
    const url = gone.url
    await gone.close()
    const result = await sendEmail(input({ apiBase: url }))
    expect(result).toMatchObject({ ok: false, retry: true })
    expect(result).not.toHaveProperty('status')
  })

  it('gives up on a hang after timeoutMs and retries', async () => {
    fake.fail({ kind: 'hang' })
    const started = Date.now()
    const result = await sendEmail(input({ timeoutMs: 300 }))
    expect(result).toEqual({ ok: false, retry: true, error: 'timeout after 300 ms' })
    expect(Date.now() - started).toBeLessThan(2_000)
  })

  it('a timeout after Resend sent the email is retried, and the retry sends nothing new', async () => {
    fake.fail({ kind: 'hang-after-send' })
    const lost = await sendEmail(input({ idempotencyKey: 'n-5', timeoutMs: 300 }))
    expect(lost).toMatchObject({ ok: false, retry: true })
    const retried = await sendEmail(input({ idempotencyKey: 'n-5' }))
    expect(retried).toEqual({ ok: true, messageId: fake.sent[0]?.id })
    expect(fake.sent).toHaveLength(1)
  })
})

describe('classifyFailure', () => {
  it.each([
    [400, 'validation_error', false],
    [401, 'missing_api_key', false],
    [403, 'invalid_from_address', false],
    [404, 'not_found', false],
    [408, 'request_timeout', true],
    [409, 'invalid_idempotent_request', false],
    [409, 'concurrent_idempotent_requests', true],
    [422, 'missing_required_field', false],
    [429, 'rate_limit_exceeded', true],
    [500, 'application_error', true],
    [503, 'service_unavailable', true],
  ])('%i %s: retry %s', (status, name, retry) => {
    expect(classifyFailure(status, name, 'm', 5)).toEqual({
      ok: false,
      retry,
      status,
      error: `${status} ${name}: m`,
      ...(retry ? { retryAfterSeconds: 5 } : {}),
    })
  })
})

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates, and ignores anything else', () => {
    const now = Date.parse('2026-12-05T00:00:00Z')
    expect(parseRetryAfter('7', now)).toBe(7)
    expect(parseRetryAfter('Sat, 05 Dec 2026 00:01:00 GMT', now)).toBe(60)
    expect(parseRetryAfter('Fri, 04 Dec 2026 00:00:00 GMT', now)).toBe(0)
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter(undefined, now)).toBeUndefined()
    expect(parseRetryAfter('', now)).toBeUndefined()
  })
})
