import { Resend } from 'resend'

// Sending one email through Resend's HTTP API with the official SDK, which takes the API base
// (`baseUrl`) and an Idempotency-Key per request (`idempotencyKey`), and classifying the outcome
// for the outbox: sent, retry later, or dead.
//
// The SDK never throws for HTTP or network failures: it answers `{ data, error, headers }`, where
// `error` is Resend's JSON error body (`{ statusCode, name, message }`), or, for a body that is not
// JSON, `application_error` with the HTTP status, or, when no answer arrived at all (network error,
// reset, our timeout), `application_error` with `statusCode: null`.

/** Resend's public API. */
export const RESEND_API_BASE = 'https://api.resend.com'

/** What `sendEmail` needs: the key, the API base and one Idempotency-Key per email. */
export type SendEmailInput = {
  apiKey: string
  /** Default the real API; tests point it at tests/helpers/fake-resend.ts. */
  apiBase?: string
  /** The same for every attempt of one email, so Resend drops a duplicate (at most 256 chars). */
  idempotencyKey: string
  from: string
  to: string | string[]
  subject: string
  html: string
  text: string
  headers?: Record<string, string>
  tags?: { name: string; value: string }[]
  /** Give up waiting after this many milliseconds (default 10 s). */
  timeoutMs?: number
}

/** The outcome of one attempt, as the outbox records it. */
export type SendEmailResult =
  | { ok: true; messageId: string }
  | {
    ok: false
    /** False: no retry can fix it (the email is dead). */
    retry: boolean
    /** The provider's Retry-After, in seconds, when it sent one. */
    retryAfterSeconds?: number
    error: string
    /** The HTTP status, when an answer arrived. */
    status?: number
  }

/** Default wait for Resend's answer, in milliseconds. */
export const SEND_TIMEOUT_MS = 10_000

type ProviderError = { statusCode?: number | null; name?: string; message?: string }

/** Reads Retry-After (delta-seconds or an HTTP date) as whole seconds from `now`. */
export const parseRetryAfter = (
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined => {
  if (value === null || value === undefined || value.trim() === '') return undefined
  const trimmed = value.trim()
  if (/^[0-9]+$/.test(trimmed)) return Number(trimmed)
  const at = Date.parse(trimmed)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, Math.ceil((at - now) / 1000))
}

/**
 * Classifies a failed answer: 408, 409 `concurrent_idempotent_requests` (the first request with
 * this key is still running), 429 and 5xx are retried; every other 4xx (a bad key, a refused
 * address, 409 `invalid_idempotent_request`: the same key was used with another body) is dead.
 */
export const classifyFailure = (
  status: number,
  name: string | undefined,
  message: string,
  retryAfterSeconds?: number,
): SendEmailResult => {
  const retry = status === 408 || status === 429 || status >= 500 ||
    (status === 409 && name === 'concurrent_idempotent_requests')
  return {
    ok: false,
    retry,
    ...(retry && retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    error: `${status} ${name ?? 'error'}: ${message}`,
    status,
  }
}

const clients = new Map<string, Resend>()

// One SDK client per key and API base (it holds nothing but them and default headers).
const clientFor = (apiKey: string, apiBase: string): Resend => {
  const slot = `${apiBase}\u0000${apiKey}`
  let client = clients.get(slot)
  if (!client) {
    client = new Resend(apiKey, { baseUrl: apiBase })
    clients.set(slot, client)
  }
  return client
}

/** Sends one email through Resend and says whether it was sent, should be retried, or is dead. */
export const sendEmail = async (input: SendEmailInput): Promise<SendEmailResult> => {
  if (!input.apiKey) return { ok: false, retry: false, error: 'RESEND_API_KEY is not set' }
  const apiBase = (input.apiBase || RESEND_API_BASE).replace(/\/+$/, '')
  const timeoutMs = input.timeoutMs ?? SEND_TIMEOUT_MS
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new Error('timeout')), timeoutMs)
  let answer: Awaited<ReturnType<Resend['emails']['send']>>
  try {
    answer = await clientFor(input.apiKey, apiBase).emails.send(
      {
        from: input.from,
        to: input.to,
        subject: input.subject,
        html: input.html,
        text: input.text,
        ...(input.headers ? { headers: input.headers } : {}),
        ...(input.tags ? { tags: input.tags } : {}),
      },
      { idempotencyKey: input.idempotencyKey, signal: controller.signal },
    )
  } catch (error) {
    // The SDK rethrows only an abort that lands while it reads an error body.
    return controller.signal.aborted
      ? { ok: false, retry: true, error: `timeout after ${timeoutMs} ms` }
      : { ok: false, retry: true, error: `network: ${(error as Error).message}` }
  } finally {
    clearTimeout(timer)
  }
  if (answer.error === null) {
    const id = (answer.data as { id?: unknown } | null)?.id
    // A 2xx without an id: retrying with the same key replays the real answer.
    return typeof id === 'string' && id !== ''
      ? { ok: true, messageId: id }
      : { ok: false, retry: true, error: 'answer without an email id' }
  }
  const failure = answer.error as ProviderError
  const message = failure.message ?? 'no message'
  if (answer.headers === null || failure.statusCode === null) {
    return controller.signal.aborted
      ? { ok: false, retry: true, error: `timeout after ${timeoutMs} ms` }
      : { ok: false, retry: true, error: `network: ${message}` }
  }
  const retryAfter = parseRetryAfter(answer.headers['retry-after'])
  if (typeof failure.statusCode !== 'number') {
    // An error answer whose JSON body does not say its status (not Resend's shape, e.g. a proxy):
    // the SDK does not hand us the HTTP status, so retry, which the Idempotency-Key makes safe.
    return {
      ok: false,
      retry: true,
      ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
      error: `unrecognised error answer: ${message}`,
    }
  }
  return classifyFailure(failure.statusCode, failure.name, message, retryAfter)
}
