import type { Context, ErrorHandler, NotFoundHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { getPath } from 'hono/utils/url'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import * as z from 'zod'
import { type ErrorCode, ErrorCodes, statusForCode } from './errors.ts'
import { log } from './log.ts'

/** The error body of every response, in PostgREST's shape. */
export type ErrorBody = { code: string; message: string; details: unknown; hint: string | null }

/** What `ApiError` takes besides its code; `message` and `status` default to the registry's. */
export type ApiErrorOptions = {
  message?: string
  details?: unknown
  hint?: string
  status?: number
  cause?: unknown
}

/** An error a handler throws on purpose; `onError` turns it into its status and body. */
export class ApiError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly details: unknown
  readonly hint: string | null

  constructor(code: ErrorCode, options: ApiErrorOptions = {}) {
    super(
      options.message ?? ErrorCodes[code].message,
      options.cause === undefined ? undefined : { cause: options.cause },
    )
    this.name = 'ApiError'
    this.code = code
    this.status = options.status ?? ErrorCodes[code].status
    this.details = options.details ?? null
    this.hint = options.hint ?? null
  }
}

/** Builds an error body in PostgREST's shape (`details` and `hint` null when absent). */
export const errorBody = (
  code: string,
  message: string,
  details?: unknown,
  hint?: string | null,
): ErrorBody => ({ code, message, details: details ?? null, hint: hint ?? null })

/** A status and body an error maps to. */
export type ErrorResponse = { status: number; body: ErrorBody; headers?: Headers }

/** The fields of a postgres.js `PostgresError` that the mapping reads. */
type PostgresErrorLike = {
  code: string
  severity: string
  message: string
  detail?: string
  hint?: string
}

const isPostgresError = (error: unknown): error is PostgresErrorLike => {
  if (typeof error !== 'object' || error === null) return false
  const { code, severity } = error as { code?: unknown; severity?: unknown }
  return typeof code === 'string' && code.length === 5 && typeof severity === 'string'
}

// `$ZodError` is the base of classic and mini zod errors.
const isZodError = (error: unknown): error is z.core.$ZodError => error instanceof z.core.$ZodError

const isTollgateCode = (code: string): code is ErrorCode => Object.hasOwn(ErrorCodes, code)

// Words for the Postgres SQLSTATEs that reach clients; the SQL text itself never does.
const SqlStateMessages: Record<string, string> = {
  '23505': 'This already exists',
  '23503': 'This refers to something that does not exist or is still in use',
  '23514': 'A value is not allowed',
  '22P02': 'A value has the wrong format',
  '22023': 'A value is not allowed',
  '42501': 'Not allowed',
  '40001': 'Busy, try again',
  '40P01': 'Busy, try again',
  '57014': 'The request took too long',
}

// The code an HTTPException gets from its status; other statuses fall back by class.
const CodeForStatus: Record<number, ErrorCode> = {
  400: 'BADRQ',
  401: 'NOJWT',
  404: 'NOTFD',
  413: 'TOOBG',
  500: 'INTRN',
  503: 'NOCFG',
}

const codeForStatus = (status: number): ErrorCode =>
  CodeForStatus[status] ?? (status >= 500 ? 'INTRN' : 'BADRQ')

const internal = (error: unknown): ErrorResponse => {
  log.error('unhandled_error', { error })
  return { status: 500, body: errorBody('INTRN', ErrorCodes.INTRN.message) }
}

const fromZod = (error: z.core.$ZodError): ErrorResponse => ({
  status: 400,
  body: errorBody(
    'BADRQ',
    'Invalid request',
    error.issues.map((issue) => ({
      path: issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key)),
      message: issue.message,
    })),
  ),
})

const fromPostgres = (error: PostgresErrorLike): ErrorResponse => {
  const status = statusForCode(error.code)
  if (isTollgateCode(error.code)) {
    if (status >= 500) log.error('database_error', { error })
    return { status, body: errorBody(error.code, error.message, error.detail, error.hint) }
  }
  log[status >= 500 ? 'error' : 'warn']('database_error', { error })
  const message = SqlStateMessages[error.code] ?? ErrorCodes.INTRN.message
  return { status, body: errorBody(error.code, message) }
}

// Headers a custom `res` carries (e.g. WWW-Authenticate), minus those of its own body.
const headersOf = (res: Response | undefined): Headers | undefined => {
  if (!res) return undefined
  const headers = new Headers(res.headers)
  headers.delete('content-type')
  headers.delete('content-length')
  return headers
}

const fromHttpException = (error: HTTPException): ErrorResponse => {
  if (error.cause instanceof ApiError || isZodError(error.cause)) return mapError(error.cause)
  const code = codeForStatus(error.status)
  if (error.status >= 500) log.error('http_exception', { error, status: error.status })
  // Messages of 4xx exceptions are written for clients (hono's middleware, ours); 5xx ones may not be.
  const message = error.status < 500 && error.message ? error.message : ErrorCodes[code].message
  return { status: error.status, body: errorBody(code, message), headers: headersOf(error.res) }
}

/** Maps anything thrown to the status and body a client sees (logging what is our fault). */
export const mapError = (error: unknown): ErrorResponse => {
  if (error instanceof ApiError) {
    // A missing setting is an operator's to-do, not a crash: no stack.
    if (error.code === 'NOCFG') log.warn('not_configured', { details: error.details })
    else if (error.status >= 500) log.error('api_error', { error, details: error.details })
    return {
      status: error.status,
      body: errorBody(error.code, error.message, error.details, error.hint),
    }
  }
  if (error instanceof HTTPException) return fromHttpException(error)
  if (isZodError(error)) return fromZod(error)
  if (isPostgresError(error)) return fromPostgres(error)
  return internal(error)
}

const respond = (c: Context, { status, body, headers }: ErrorResponse): Response => {
  const response = c.json(body, status as ContentfulStatusCode)
  headers?.forEach((value, name) => response.headers.set(name, value))
  return response
}

/** `app.onError` handler: ApiError, HTTPException, ZodError and Postgres errors to `{code, message, details, hint}`. */
export const onError: ErrorHandler = (error, c) => respond(c, mapError(error))

/** `app.notFound` handler: 404 with code NOTFD. */
export const notFound: NotFoundHandler = (c) =>
  c.json(errorBody('NOTFD', ErrorCodes.NOTFD.message), 404)

/** Default largest JSON body `parseJson` reads: 64 KiB. */
export const BODY_LIMIT = 64 * 1024

/** Options of `parseJson`: `limit` in bytes; `allowEmpty` parses an empty body as `{}`. */
export type ParseJsonOptions = { limit?: number; allowEmpty?: boolean }

const tooBig = (limit: number): ApiError => new ApiError('TOOBG', { details: { limit } })

const concat = (chunks: Uint8Array[], size: number): Uint8Array => {
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return bytes
}

/**
 * Reads at most `limit` bytes of a request body, so a body without (or lying about) its
 * Content-Length cannot fill memory; ApiError TOOBG (413) past the limit.
 */
export const readBodyBytes = async (request: Request, limit: number): Promise<Uint8Array> => {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > limit) throw tooBig(limit)
  // A declared length within the limit: HTTP/1.1 framing delivers exactly that many bytes, read in
  // one call (a chunk-by-chunk read through the stream's reader cost ~100 us more a webhook).
  // Before `request.body` is touched: on Node, @hono/node-server reads arrayBuffer() straight from
  // the socket, while `body` makes it build a whole web Request and stream (~60 us a request).
  if (declared !== null && /^[0-9]+$/.test(declared)) {
    const bytes = new Uint8Array(await request.arrayBuffer())
    if (bytes.byteLength > limit) throw tooBig(limit)
    return bytes
  }
  if (!request.body) return new Uint8Array()
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel()
      throw tooBig(limit)
    }
    chunks.push(value)
  }
  return concat(chunks, size)
}

const readBody = async (c: Context, limit: number): Promise<Uint8Array> => {
  // Read before (e.g. by a middleware): hono keeps a copy we can ask for.
  if (c.req.raw.bodyUsed) {
    const bytes = new Uint8Array(await c.req.arrayBuffer())
    if (bytes.byteLength > limit) throw tooBig(limit)
    return bytes
  }
  return readBodyBytes(c.req.raw, limit)
}

/** Reads the JSON body (at most `limit` bytes, default 64 KiB) and parses it with `schema`. */
export const parseJson = async <S extends z.ZodType>(
  c: Context,
  schema: S,
  options: ParseJsonOptions = {},
): Promise<z.output<S>> => {
  const limit = options.limit ?? BODY_LIMIT
  const bytes = await readBody(c, limit)
  if (bytes.byteLength > limit) throw tooBig(limit)
  let value: unknown
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    value = options.allowEmpty && text.trim() === '' ? {} : JSON.parse(text)
  } catch (cause) {
    throw new ApiError('BADRQ', { message: 'The request body is not valid JSON', cause })
  }
  return schema.parseAsync(value)
}

/** Where Supabase serves edge functions, under the project URL. */
export const FUNCTIONS_PATH = '/functions/v1'

/**
 * The path a function's app routes on (its Hono `getPath`): Supabase's Edge Runtime hands it
 * `/<name>/...`; the local stack passes `/functions/v1/<name>/...` through as it came, so that no
 * request is rebuilt on the way (a new Request with the body cost up to 60 µs an event).
 */
export const functionPath = (request: Request): string => {
  const path = getPath(request)
  return path.startsWith(`${FUNCTIONS_PATH}/`) ? path.slice(FUNCTIONS_PATH.length) : path
}
