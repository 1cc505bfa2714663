import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

// A local stand-in for Resend's HTTP API (https://resend.com/docs/api-reference), as fake-stripe.ts
// is for Stripe: `POST /emails` and `GET /emails/:id` with Resend's documented answers and errors
// (body `{ statusCode, name, message }`), the Bearer key check, the Idempotency-Key rules
// (resend.com/docs/dashboard/emails/idempotency-keys) and injectable faults for outage tests.

/** One email the fake accepted (and so would have delivered). */
export type SentEmail = {
  id: string
  from: string
  to: string[]
  subject: string
  html?: string
  text?: string
  cc?: string[]
  bcc?: string[]
  replyTo?: string[]
  headers?: Record<string, string>
  tags?: { name: string; value: string }[]
  idempotencyKey: string | null
  apiKey: string
  /** Unix milliseconds on the fake's clock. */
  createdAt: number
}

/** One request the fake received and answered (a reset or a hang is recorded with status 0). */
export type RecordedResendRequest = {
  method: string
  path: string
  idempotencyKey: string | null
  authorization: string | null
  body: unknown
  status: number
  /** The error `name` of a refused request, or the injected fault. */
  error: string | null
  /** True when the answer was the stored answer of an earlier request with the same key. */
  replayed: boolean
}

/**
 * A fault the fake answers the next requests with instead of handling them: an error status (with
 * Retry-After on 429 and 503 when given), `hang` (never answered, never handled), `hang-after-send`
 * (handled, the email is sent, but the answer never comes: a timeout after delivery), `reset` (the
 * connection is destroyed before anything is handled) or `delay` (handled after `ms`, its
 * Idempotency-Key in flight meanwhile).
 */
export type FakeResendFault =
  | { status: number; name?: string; message?: string; retryAfter?: number | string }
  | { kind: 'hang' }
  | { kind: 'hang-after-send' }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number }

/** Options of `createFakeResend`. */
export type FakeResendOptions = {
  /** Keys the fake accepts (default `['re_test_fake_key']`). */
  apiKeys?: string[]
  /** The fake's clock in Unix milliseconds (default the real one); idempotency keys expire after 24 h. */
  now?: () => number
  /**
   * Requests per second each API key may make, as Resend enforces (its default is a few per
   * second); past it 429 `rate_limit_exceeded` with Retry-After. Default: no limit, so tests are
   * not timing-dependent.
   */
  rateLimit?: number
}

/** An in-memory Resend API on a local port. */
export type FakeResend = {
  /** Base URL for RESEND_API_BASE (no trailing slash, no path). */
  url: string
  /** The first accepted key. */
  apiKey: string
  /** Emails accepted, oldest first (a replayed request adds nothing). */
  sent: SentEmail[]
  requests: RecordedResendRequest[]
  /** Answers the next `times` requests with the fault (queued after earlier faults). */
  fail: (fault: FakeResendFault, times?: number) => void
  /** Forgets recorded emails, requests, idempotency keys and pending faults. */
  reset: () => void
  close: () => Promise<void>
}

type ResendError = { statusCode: number; name: string; message: string }

const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000
const MAX_RECIPIENTS = 50

const refusal = (statusCode: number, name: string, message: string): ResendError => ({
  statusCode,
  name,
  message,
})

// Resend accepts `email@example.com` or `Name <email@example.com>`.
const ADDRESS = /^(?:[^<>]*<\s*[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+\s*>|[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+)$/
const TAG_PART = /^[A-Za-z0-9_-]{1,256}$/

const invalidAddress = (field: string): ResendError =>
  refusal(
    422,
    'validation_error',
    `Invalid \`${field}\` field. The email address needs to follow the \`email@example.com\` or \`Name <email@example.com>\` format.`,
  )

const addresses = (value: unknown, field: string): string[] | ResendError => {
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.length === 0) return invalidAddress(field)
  if (list.length > MAX_RECIPIENTS) {
    return refusal(
      422,
      'validation_error',
      `Too many recipients in \`${field}\`: at most ${MAX_RECIPIENTS}.`,
    )
  }
  for (const item of list) {
    if (typeof item !== 'string' || !ADDRESS.test(item.trim())) return invalidAddress(field)
  }
  return list as string[]
}

const isError = (value: unknown): value is ResendError =>
  typeof value === 'object' && value !== null && 'statusCode' in value && 'name' in value

type Email = Omit<SentEmail, 'id' | 'idempotencyKey' | 'apiKey' | 'createdAt'>

// Validates a POST /emails body the way Resend documents it; returns the email or the refusal.
const parseEmail = (body: unknown): Email | ResendError => {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return refusal(422, 'validation_error', 'The request body must be a JSON object.')
  }
  const input = body as Record<string, unknown>
  for (const field of ['from', 'to', 'subject']) {
    if (input[field] === undefined || input[field] === null || input[field] === '') {
      return refusal(422, 'missing_required_field', `Missing \`${field}\` field.`)
    }
  }
  if (typeof input.from !== 'string' || !ADDRESS.test(input.from.trim())) {
    return invalidAddress('from')
  }
  const to = addresses(input.to, 'to')
  if (isError(to)) return to
  if (typeof input.subject !== 'string') {
    return refusal(422, 'validation_error', 'Invalid `subject` field: a string is expected.')
  }
  for (const field of ['html', 'text'] as const) {
    if (input[field] !== undefined && typeof input[field] !== 'string') {
      return refusal(422, 'validation_error', `Invalid \`${field}\` field: a string is expected.`)
    }
  }
  if (input.html === undefined && input.text === undefined && input.template === undefined) {
    return refusal(422, 'validation_error', 'Missing `html` or `text` field.')
  }
  const email: Email = {
    from: input.from,
    to,
    subject: input.subject,
    ...(input.html !== undefined ? { html: input.html as string } : {}),
    ...(input.text !== undefined ? { text: input.text as string } : {}),
  }
  for (
    const [field, key] of [
      ['cc', 'cc'],
      ['bcc', 'bcc'],
      ['reply_to', 'replyTo'],
    ] as const
  ) {
    if (input[field] === undefined || input[field] === null) continue
    const list = addresses(input[field], field)
    if (isError(list)) return list
    email[key] = list
  }
  if (input.headers !== undefined && input.headers !== null) {
    const headers = input.headers
    if (
      typeof headers !== 'object' || Array.isArray(headers) ||
      Object.values(headers).some((value) => typeof value !== 'string')
    ) {
      return refusal(
        422,
        'validation_error',
        'Invalid `headers` field: an object of strings is expected.',
      )
    }
    email.headers = headers as Record<string, string>
  }
  if (input.tags !== undefined && input.tags !== null) {
    const tags = input.tags
    const valid = Array.isArray(tags) &&
      tags.every((tag) =>
        typeof tag === 'object' && tag !== null && typeof tag.name === 'string' &&
        TAG_PART.test(tag.name) && typeof tag.value === 'string' && TAG_PART.test(tag.value)
      )
    if (!valid) {
      return refusal(
        422,
        'validation_error',
        'Invalid `tags` field: each tag needs a `name` and a `value` of ASCII letters, numbers, underscores or dashes (at most 256 characters).',
      )
    }
    email.tags = (tags as { name: string; value: string }[]).map(({ name, value }) => ({
      name,
      value,
    }))
  }
  return email
}

// Key order does not matter to Resend's comparison of payloads; canonical JSON makes it so here.
const canonical = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${
      entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')
    }}`
  }
  return JSON.stringify(value)
}

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })

type Stored = { fingerprint: string; id: string | null; at: number }

/** Starts a fake Resend API on 127.0.0.1 at a free port. */
export const createFakeResend = async (options: FakeResendOptions = {}): Promise<FakeResend> => {
  const apiKeys = options.apiKeys ?? ['re_test_fake_key']
  const now = options.now ?? (() => Date.now())
  const sent: SentEmail[] = []
  const requests: RecordedResendRequest[] = []
  const faults: FakeResendFault[] = []
  // Per API key and Idempotency-Key; `id: null` while the first request is still in flight.
  const idempotency = new Map<string, Stored>()
  const sockets = new Set<Socket>()
  // Per API key, when its requests of the last second came (for `rateLimit`).
  const recent = new Map<string, number[]>()

  const answer = (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void => {
    const bytes = Buffer.from(JSON.stringify(body))
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': String(bytes.length),
      'ratelimit-limit': String(options.rateLimit ?? 1000),
      'ratelimit-remaining': '1',
      'ratelimit-reset': '1',
      ...headers,
    })
    res.end(bytes)
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET'
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const raw = await readBody(req)
    const keyHeader = req.headers['idempotency-key']
    const idempotencyKey = typeof keyHeader === 'string' ? keyHeader : null
    const authorization = req.headers.authorization ?? null
    let body: unknown = raw
    try {
      body = raw === '' ? undefined : JSON.parse(raw)
    } catch {
      // Kept as text; a POST /emails refuses it below.
    }
    const record = (status: number, error: string | null, replayed = false): void => {
      requests.push({ method, path, idempotencyKey, authorization, body, status, error, replayed })
    }
    const refuse = (error: ResendError, headers?: Record<string, string>): void => {
      record(error.statusCode, error.name)
      answer(res, error.statusCode, error, headers)
    }

    const fault = faults.shift()
    if (fault && 'status' in fault) {
      const name = fault.name ??
        (fault.status === 429
          ? 'rate_limit_exceeded'
          : fault.status >= 500
          ? 'application_error'
          : 'validation_error')
      const message = fault.message ??
        (fault.status === 429
          ? 'Too many requests. Please limit the number of requests per second.'
          : 'An unexpected error occurred.')
      const headers: Record<string, string> = fault.retryAfter !== undefined
        ? { 'retry-after': String(fault.retryAfter) }
        : {}
      refuse(refusal(fault.status, name, message), headers)
      return
    }
    if (fault && fault.kind === 'reset') {
      record(0, 'reset')
      req.socket.destroy()
      return
    }
    if (fault && fault.kind === 'hang') {
      // Neither handled nor answered; close() ends the socket.
      record(0, 'hang')
      return
    }

    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1]
    if (!authorization || !bearer) {
      refuse(refusal(401, 'missing_api_key', 'Missing API key in the authorization header.'))
      return
    }
    if (!apiKeys.includes(bearer)) {
      refuse(refusal(403, 'invalid_api_key', 'API key is invalid.'))
      return
    }
    if (options.rateLimit !== undefined) {
      const window = (recent.get(bearer) ?? []).filter((at) => now() - at < 1000)
      if (window.length >= options.rateLimit) {
        recent.set(bearer, window)
        refuse(
          refusal(
            429,
            'rate_limit_exceeded',
            'Too many requests. Please limit the number of requests per second.',
          ),
          { 'retry-after': '1', 'ratelimit-remaining': '0' },
        )
        return
      }
      window.push(now())
      recent.set(bearer, window)
    }

    const emailPath = /^\/emails\/([^/]+)$/.exec(path)
    if (emailPath && method === 'GET') {
      const email = sent.find((item) => item.id === emailPath[1])
      if (!email) {
        refuse(refusal(404, 'not_found', 'Email not found'))
        return
      }
      record(200, null)
      answer(res, 200, {
        object: 'email',
        id: email.id,
        from: email.from,
        to: email.to,
        subject: email.subject,
        html: email.html ?? null,
        text: email.text ?? null,
        created_at: new Date(email.createdAt).toISOString(),
        last_event: 'delivered',
      })
      return
    }
    if (path !== '/emails') {
      refuse(refusal(404, 'not_found', 'The requested endpoint does not exist.'))
      return
    }
    if (method !== 'POST') {
      refuse(refusal(405, 'method_not_allowed', 'Method is not allowed for the requested path.'))
      return
    }

    if (idempotencyKey !== null && (idempotencyKey.length < 1 || idempotencyKey.length > 256)) {
      refuse(refusal(400, 'invalid_idempotency_key', 'The key must be between 1-256 chars.'))
      return
    }
    const email = parseEmail(body)
    if (isError(email)) {
      refuse(email)
      return
    }

    const slot = idempotencyKey === null ? null : `${bearer}\u0000${idempotencyKey}`
    const fingerprint = canonical(body)
    if (slot !== null) {
      const stored = idempotency.get(slot)
      if (stored && now() - stored.at < IDEMPOTENCY_WINDOW_MS) {
        if (stored.fingerprint !== fingerprint) {
          refuse(
            refusal(
              409,
              'invalid_idempotent_request',
              'Same idempotency key used with a different request payload.',
            ),
          )
          return
        }
        if (stored.id === null) {
          refuse(
            refusal(
              409,
              'concurrent_idempotent_requests',
              'Same idempotency key used while original request is still in progress.',
            ),
          )
          return
        }
        record(200, null, true)
        answer(res, 200, { id: stored.id })
        return
      }
      idempotency.set(slot, { fingerprint, id: null, at: now() })
    }

    if (fault && fault.kind === 'delay') {
      await new Promise((resolve) => setTimeout(resolve, fault.ms))
    }
    const id = randomUUID()
    sent.push({ id, ...email, idempotencyKey, apiKey: bearer, createdAt: now() })
    if (slot !== null) idempotency.set(slot, { fingerprint, id, at: now() })
    if (fault && fault.kind === 'hang-after-send') {
      record(0, 'hang-after-send')
      return
    }
    record(200, null)
    answer(res, 200, { id })
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) {
        answer(res, 500, refusal(500, 'application_error', 'fake server failure'))
      }
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey: apiKeys[0] ?? '',
    sent,
    requests,
    fail: (fault, times = 1) => {
      for (let i = 0; i < times; i += 1) faults.push(fault)
    },
    reset: () => {
      sent.length = 0
      requests.length = 0
      faults.length = 0
      idempotency.clear()
      recent.clear()
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        for (const socket of sockets) socket.destroy()
      }),
  }
}
