import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type postgres from 'postgres'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import * as z from 'zod'
import { ownerSql, pgError } from '../../../tests/helpers/db.ts'
import { ApiError, errorBody, notFound, onError, parseJson } from './http.ts'

const sql = ownerSql({ max: 2 })
afterAll(() => sql.end())

// Real postgres.js errors, so the mapping is tested against the driver's own shape.
let uniqueViolation: postgres.PostgresError
let permissionDenied: postgres.PostgresError
let undefinedTable: postgres.PostgresError
let quotaError: postgres.PostgresError

beforeAll(async () => {
  uniqueViolation = await pgError(
    sql.begin(async (tx) => {
      await tx`create temporary table secret_things (id int primary key) on commit drop`
      await tx`insert into secret_things values (1), (1)`
    }),
  )
  permissionDenied = await pgError(
    sql.begin(async (tx) => {
      await tx`select pg_catalog.set_config('role', 'anon', true)`
      await tx`select * from tollgate_private.usage_counters`
    }),
  )
  undefinedTable = await pgError(sql`select * from secret_schema_name.no_such_table`)
  quotaError = await pgError(sql`
    do $$ begin
      raise exception 'Quota used up for api_calls'
        using errcode = 'QUOTA', detail = 'used 10 of 10', hint = 'Upgrade your plan';
    end $$`)
})

const stderr = vi.spyOn(console, 'error').mockImplementation(() => {})
afterEach(() => stderr.mockClear())
afterAll(() => stderr.mockRestore())

const loggedEvents = (): { level: string; event: string; error?: { message?: string } }[] =>
  stderr.mock.calls.map((args) => JSON.parse(String(args[0])))

const Order = z.object({ plan_id: z.string().min(1), quantity: z.number().int().positive() })

const app = new Hono()
app.onError(onError)
app.notFound(notFound)
app.get('/throw', () => {
  throw thrown
})
app.post('/orders', async (c) => c.json(await parseJson(c, Order)))
app.post('/tiny', async (c) => c.json(await parseJson(c, z.unknown(), { limit: 16 })))

let thrown: unknown
const responseTo = async (error: unknown): Promise<{ status: number; body: unknown }> => {
  thrown = error
  const res = await app.request('/throw')
  expect(res.headers.get('content-type')).toMatch(/^application\/json/)
  return { status: res.status, body: await res.json() }
}

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  app.request(path, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  })

describe('errorBody', () => {
  it("builds PostgREST's shape with null details and hint by default", () => {
    expect(errorBody('QUOTA', 'Quota used up')).toEqual({
      code: 'QUOTA',
      message: 'Quota used up',
      details: null,
      hint: null,
    })
  })
})

describe('onError', () => {
  it('answers an ApiError with its registry status, message, details and hint (IDKEY)', async () => {
    const error = new ApiError('IDKEY', { details: { key: 'k1' }, hint: 'Use a new key' })
    expect(await responseTo(error)).toEqual({
      status: 409,
      body: {
        code: 'IDKEY',
        message: 'This idempotency key was used for a different request',
        details: { key: 'k1' },
        hint: 'Use a new key',
      },
    })
  })

  it('lets an ApiError override its status and message (GAUGE)', async () => {
    const error = new ApiError('GAUGE', { status: 400, message: 'storage_gb resets monthly' })
    expect(await responseTo(error)).toEqual({
      status: 400,
      body: { code: 'GAUGE', message: 'storage_gb resets monthly', details: null, hint: null },
    })
  })

  it('answers a missing setting with 503 naming the variable (NOCFG)', async () => {
    const error = new ApiError('NOCFG', { details: { missing: 'STRIPE_SECRET_KEY' } })
    expect(await responseTo(error)).toEqual({
      status: 503,
      body: {
        code: 'NOCFG',
        message: 'This service is not configured',
        details: { missing: 'STRIPE_SECRET_KEY' },
        hint: null,
      },
    })
  })

  it('maps an HTTPException 400 to BADRQ with its message (BADRQ)', async () => {
    expect(await responseTo(new HTTPException(400, { message: 'Malformed JSON' }))).toEqual({
      status: 400,
      body: { code: 'BADRQ', message: 'Malformed JSON', details: null, hint: null },
    })
  })

  it('maps an HTTPException 401 to NOJWT and keeps the headers of its response (NOJWT)', async () => {
    thrown = new HTTPException(401, {
      res: new Response('no', { headers: { 'WWW-Authenticate': 'Bearer realm="tollgate"' } }),
    })
    const res = await app.request('/throw')
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="tollgate"')
    expect(await res.json()).toEqual({
      code: 'NOJWT',
      message: 'Sign in first',
      details: null,
      hint: null,
    })
  })

  it('maps an HTTPException 413 to TOOBG (TOOBG)', async () => {
    expect(await responseTo(new HTTPException(413))).toEqual({
      status: 413,
      body: { code: 'TOOBG', message: 'The request body is too large', details: null, hint: null },
    })
  })

  it('maps an HTTPException 500 to INTRN without its message and logs it (INTRN)', async () => {
    const error = new HTTPException(500, { message: 'db password is hunter2' })
    expect(await responseTo(error)).toEqual({
      status: 500,
      body: { code: 'INTRN', message: 'Internal error', details: null, hint: null },
    })
    expect(loggedEvents()).toMatchObject([
      { level: 'error', event: 'http_exception', error: { message: 'db password is hunter2' } },
    ])
  })

  it('maps an HTTPException caused by an ApiError to that error (QUOTA)', async () => {
    const error = new HTTPException(400, { cause: new ApiError('QUOTA') })
    expect(await responseTo(error)).toEqual({
      status: 429,
      body: { code: 'QUOTA', message: 'Quota used up', details: null, hint: null },
    })
  })

  it('maps an HTTPException caused by a ZodError to 400 with the issues (BADRQ)', async () => {
    const parsed = Order.safeParse({ plan_id: 'pro' })
    if (parsed.success) throw new Error('expected a parse failure')
    const error = new HTTPException(400, { cause: parsed.error })
    expect(await responseTo(error)).toEqual({
      status: 400,
      body: {
        code: 'BADRQ',
        message: 'Invalid request',
        details: [
          { path: ['quantity'], message: 'Invalid input: expected number, received undefined' },
        ],
        hint: null,
      },
    })
  })

  it('maps a ZodError to 400 with paths and messages but no input values (BADRQ)', async () => {
    const parsed = Order.safeParse({ plan_id: '', quantity: 'sk_live_secret' })
    if (parsed.success) throw new Error('expected a parse failure')
    const { status, body } = await responseTo(parsed.error)
    expect(status).toBe(400)
    expect(body).toEqual({
      code: 'BADRQ',
      message: 'Invalid request',
      details: [
        { path: ['plan_id'], message: 'Too small: expected string to have >=1 characters' },
        { path: ['quantity'], message: 'Invalid input: expected number, received string' },
      ],
      hint: null,
    })
    expect(JSON.stringify(body)).not.toContain('sk_live_secret')
  })

  it('maps a unique violation to 409 with a generic message, never the SQL text (23505)', async () => {
    expect(uniqueViolation.code).toBe('23505')
    const { status, body } = await responseTo(uniqueViolation)
    expect({ status, body }).toEqual({
      status: 409,
      body: { code: '23505', message: 'This already exists', details: null, hint: null },
    })
    expect(JSON.stringify(body)).not.toMatch(/secret_things|duplicate|\(id\)/)
  })

  it('maps a permission error to 403 Not allowed, never the SQL text (42501)', async () => {
    expect(permissionDenied.code).toBe('42501')
    const { status, body } = await responseTo(permissionDenied)
    expect({ status, body }).toEqual({
      status: 403,
      body: { code: '42501', message: 'Not allowed', details: null, hint: null },
    })
    expect(JSON.stringify(body)).not.toMatch(/tollgate_private|usage_counters|permission/)
  })

  it('maps an unexpected SQLSTATE to 500 Internal error, logs it and hides the SQL text (42P01)', async () => {
    expect(undefinedTable.code).toBe('42P01')
    const { status, body } = await responseTo(undefinedTable)
    expect({ status, body }).toEqual({
      status: 500,
      body: { code: '42P01', message: 'Internal error', details: null, hint: null },
    })
    expect(JSON.stringify(body)).not.toContain('secret_schema_name')
    expect(loggedEvents()).toMatchObject([{ level: 'error', event: 'database_error' }])
  })

  it("passes a Tollgate SQLSTATE's message, detail and hint through with its status (QUOTA)", async () => {
    expect(await responseTo(quotaError)).toEqual({
      status: 429,
      body: {
        code: 'QUOTA',
        message: 'Quota used up for api_calls',
        details: 'used 10 of 10',
        hint: 'Upgrade your plan',
      },
    })
  })

  it('answers anything else with 500 Internal error and logs it as one JSON line (INTRN)', async () => {
    const { status, body } = await responseTo(new TypeError('secret stack detail'))
    expect({ status, body }).toEqual({
      status: 500,
      body: { code: 'INTRN', message: 'Internal error', details: null, hint: null },
    })
    expect(stderr).toHaveBeenCalledTimes(1)
    expect(loggedEvents()).toMatchObject([
      {
        level: 'error',
        event: 'unhandled_error',
        error: { name: 'TypeError', message: 'secret stack detail' },
      },
    ])
  })
})

describe('notFound', () => {
  it('answers an unknown route with 404 (NOTFD)', async () => {
    const res = await app.request('/no/such/route')
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({
      code: 'NOTFD',
      message: 'Not found',
      details: null,
      hint: null,
    })
  })
})

describe('parseJson', () => {
  it('returns the body parsed by the schema', async () => {
    const res = await post('/orders', JSON.stringify({ plan_id: 'pro', quantity: 2, extra: true }))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ plan_id: 'pro', quantity: 2 })
  })

  it('refuses a body that is not JSON (BADRQ)', async () => {
    const res = await post('/orders', '{"plan_id": "pro",')
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({
      code: 'BADRQ',
      message: 'The request body is not valid JSON',
      details: null,
      hint: null,
    })
  })

  it('refuses an empty body (BADRQ)', async () => {
    const res = await app.request('/orders', { method: 'POST' })
    expect(res.status).toBe(400)
    expect(await res.json()).toHaveProperty('code', 'BADRQ')
  })

  it('refuses a body the schema rejects, listing the issues (BADRQ)', async () => {
    const res = await post('/orders', JSON.stringify({ plan_id: 'pro', quantity: -1 }))
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({
      code: 'BADRQ',
      message: 'Invalid request',
      details: [{ path: ['quantity'], message: 'Too small: expected number to be >0' }],
      hint: null,
    })
  })

  it('refuses a body over 64 KiB that declares no length (TOOBG)', async () => {
    const big = JSON.stringify({ plan_id: 'x'.repeat(64 * 1024), quantity: 1 })
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big))
        controller.close()
      },
    })
    const request = new Request('http://localhost/orders', {
      method: 'POST',
      body,
      duplex: 'half',
    })
    expect(request.headers.get('content-length')).toBeNull()
    const res = await app.request(request)
    expect(res.status).toBe(413)
    expect(await res.json()).toEqual({
      code: 'TOOBG',
      message: 'The request body is too large',
      details: { limit: 65536 },
      hint: null,
    })
  })

  it('refuses a body whose Content-Length is over the limit before reading it (TOOBG)', async () => {
    const res = await post('/tiny', '{}', { 'content-length': '17' })
    expect(res.status).toBe(413)
    expect(await res.json()).toEqual({
      code: 'TOOBG',
      message: 'The request body is too large',
      details: { limit: 16 },
      hint: null,
    })
  })

  it('refuses a body longer than a custom limit though its Content-Length is small (TOOBG)', async () => {
    const res = await post('/tiny', JSON.stringify({ a: 'x'.repeat(20) }), {
      'content-length': '2',
    })
    expect(res.status).toBe(413)
    expect(await res.json()).toHaveProperty('code', 'TOOBG')
  })

  it('accepts a body of exactly the limit', async () => {
    const body = JSON.stringify({ a: 'x'.repeat(8) })
    expect(body).toHaveLength(16)
    const res = await post('/tiny', body)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ a: 'xxxxxxxx' })
  })
})
