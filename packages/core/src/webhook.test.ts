import { Hono } from 'hono'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError, notFound, onError } from './http.ts'
import { type VerifiedEvent, type WebhookDb, webhookPipeline } from './webhook.ts'

const stderr = vi.spyOn(console, 'error').mockImplementation(() => {})
afterEach(() => stderr.mockClear())
afterAll(() => stderr.mockRestore())

// A postgres.js-shaped error: a 5-character code and a severity.
const sqlError = (code: string): Error =>
  Object.assign(new Error(`sql ${code}`), { code, severity: 'ERROR' })

/** A database that only notes the SQL it is sent (the pipeline writes failure notes with it). */
const fakeDb = () => {
  const calls: { sql: string; values: unknown[] }[] = []
  const db = (strings: TemplateStringsArray, ...values: unknown[]) => {
    calls.push({ sql: strings.join('?'), values })
    return Promise.resolve([])
  }
  const failureNotes = () => calls.filter((call) => call.sql.includes('record_webhook_failure'))
  return { db: db as unknown as WebhookDb, failureNotes }
}

const event: VerifiedEvent = { id: 'evt_1', type: 'thing.happened', raw: '{"id":"evt_1"}' }

/** A fake provider's webhook app: `verify` and `apply` as the test says. */
const appOf = (options: {
  db: WebhookDb
  verify?: () => Promise<VerifiedEvent>
  apply?: () => Promise<{ outcome: string }>
  after?: () => Promise<void>
}) => {
  const app = new Hono().basePath('/fake-webhook')
  app.onError(onError)
  app.notFound(notFound)
  app.post(
    '/',
    webhookPipeline({
      provider: 'fake',
      db: () => options.db,
      verify: options.verify ?? (async () => event),
      apply: options.apply ?? (async () => ({ outcome: 'applied' })),
      outcome: (_event, result) => ({ outcome: result.outcome }),
      ...(options.after ? { after: options.after } : {}),
    }),
  )
  return app
}

const post = async (app: Hono) => {
  const response = await app.request('/fake-webhook', { method: 'POST', body: '{}' }, {})
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

describe('webhookPipeline', () => {
  it('answers 200 and logs the outcome when the apply succeeds; runs `after` once', async () => {
    const { db, failureNotes } = fakeDb()
    const after = vi.fn(async () => {})
    const response = await post(appOf({ db, after }))
    expect(response).toEqual({ status: 200, body: { received: true } })
    expect(after).toHaveBeenCalledTimes(1)
    expect(failureNotes()).toEqual([])
    const lines = stderr.mock.calls.map((args) => JSON.parse(String(args[0])))
    expect(lines).toContainEqual(
      expect.objectContaining({
        event: 'fake_webhook',
        event_id: 'evt_1',
        type: 'thing.happened',
        outcome: 'applied',
      }),
    )
  })

  it('answers 400 BADSG when verify refuses the signature; nothing applied or noted', async () => {
    const { db, failureNotes } = fakeDb()
    const apply = vi.fn(async () => ({ outcome: 'applied' }))
    const verify = async (): Promise<VerifiedEvent> => {
      throw new ApiError('BADSG', { details: { reason: 'mismatch' } })
    }
    const response = await post(appOf({ db, verify, apply }))
    expect(response.status).toBe(400)
    expect(response.body).toHaveProperty('code', 'BADSG')
    expect(apply).not.toHaveBeenCalled()
    expect(failureNotes()).toEqual([])
  })

  it('answers 5xx for a transient failure of ours, noted once, so it is retried', async () => {
    const { db, failureNotes } = fakeDb()
    const apply = async (): Promise<{ outcome: string }> => {
      throw sqlError('40001')
    }
    const response = await post(appOf({ db, apply }))
    expect(response.status).toBe(503)
    expect(failureNotes()).toHaveLength(1)
    expect(failureNotes()[0]?.values).toEqual([
      'fake',
      'evt_1',
      'thing.happened',
      '{"id":"evt_1"}',
      '40001: sql 40001',
    ])
  })

  it('answers 500 INTRN for a database refusal below 500 (ours to fix), noted once', async () => {
    const { db, failureNotes } = fakeDb()
    const apply = async (): Promise<{ outcome: string }> => {
      throw sqlError('23505')
    }
    const response = await post(appOf({ db, apply }))
    expect(response.status).toBe(500)
    expect(response.body).toHaveProperty('code', 'INTRN')
    expect(failureNotes()).toHaveLength(1)
  })

  it('answers 400 BADEV for a payload Postgres cannot take (22P02, 22P05), noted nowhere', async () => {
    for (const state of ['22P02', '22P05']) {
      const { db, failureNotes } = fakeDb()
      const apply = async (): Promise<{ outcome: string }> => {
        throw sqlError(state)
      }
      const response = await post(appOf({ db, apply }))
      expect(response.status).toBe(400)
      expect(response.body).toHaveProperty('code', 'BADEV')
      expect(failureNotes()).toEqual([])
    }
  })
})
