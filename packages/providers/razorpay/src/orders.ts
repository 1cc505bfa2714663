import * as z from 'zod'
import { ApiError } from '../../../core/src/http.ts'
import { RazorpayOrderEntity } from './webhook.ts'

/** The real API; RAZORPAY_API_BASE overrides it (tests point it at a fake). */
export const RAZORPAY_API_BASE = 'https://api.razorpay.com'

/** The Razorpay settings the Orders API needs (names as in CONTRACT.md). */
export type RazorpayApiEnv = {
  RAZORPAY_KEY_ID?: string | undefined
  RAZORPAY_KEY_SECRET?: string | undefined
  RAZORPAY_API_BASE?: string | undefined
}

/** What an order is created with; `currency` may be given in any case and is sent upper-case. */
export const CreateRazorpayOrderInput = z.strictObject({
  // Razorpay refuses less than 1.00 of the currency (100 subunits).
  amount: z.number().int().min(100),
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/, 'a three-letter ISO currency code')
    .transform((value) => value.toUpperCase()),
  receipt: z.string().min(1).max(40),
  // Razorpay: at most 15 notes of at most 256 characters.
  notes: z
    .record(z.string().min(1).max(256), z.string().max(256))
    .refine((notes) => Object.keys(notes).length <= 15, 'at most 15 notes'),
})

/** Input of `createRazorpayOrder`. */
export type CreateRazorpayOrderInput = z.input<typeof CreateRazorpayOrderInput>

/** An order as the Orders API returns it. */
export const RazorpayOrder = RazorpayOrderEntity

/** A created order. */
export type RazorpayOrder = z.output<typeof RazorpayOrder>

/** How `createRazorpayOrder` reaches Razorpay: your own fetch (tests), a timeout (default 15 s). */
export type RazorpayRequestOptions = {
  fetch?: typeof fetch
  timeoutMs?: number
}

// Razorpay's error body: {"error": {"code", "description", "field", "source", "step", "reason"}}.
const RazorpayErrorBody = z.object({
  error: z.looseObject({
    code: z.string().nullish(),
    description: z.string().nullish(),
    field: z.string().nullish(),
    reason: z.string().nullish(),
  }),
})

const requireSetting = (value: string | undefined, name: keyof RazorpayApiEnv): string => {
  if (value === undefined || value === '') {
    throw new ApiError('NOCFG', {
      message: `Razorpay is not configured: ${name} is not set`,
      details: { missing: name },
    })
  }
  return value
}

const basicAuth = (keyId: string, keySecret: string): string => {
  const bytes = new TextEncoder().encode(`${keyId}:${keySecret}`)
  return `Basic ${btoa(Array.from(bytes, (byte) => String.fromCharCode(byte)).join(''))}`
}

const providerError = (message: string, details: Record<string, unknown>, cause?: unknown) =>
  new ApiError('PROVR', { message, details: { provider: 'razorpay', ...details }, cause })

const refusal = async (response: Response): Promise<ApiError> => {
  let body: unknown = null
  try {
    body = await response.json()
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  const parsed = RazorpayErrorBody.safeParse(body)
  const error = parsed.success ? parsed.data.error : null
  return providerError('Razorpay refused to create the order', {
    status: response.status,
    code: error?.code ?? null,
    description: error?.description ?? null,
    field: error?.field ?? null,
    reason: error?.reason ?? null,
  })
}

/**
 * Creates a Razorpay Order (POST /v1/orders, HTTP basic auth with the key id and secret).
 * NOCFG (503) naming the missing variable; BADRQ for input Razorpay would refuse; PROVR (502)
 * when Razorpay cannot be reached, refuses, or answers with something that is not an order.
 */
export const createRazorpayOrder = async (
  env: RazorpayApiEnv,
  input: CreateRazorpayOrderInput,
  options: RazorpayRequestOptions = {},
): Promise<RazorpayOrder> => {
  const keyId = requireSetting(env.RAZORPAY_KEY_ID, 'RAZORPAY_KEY_ID')
  const keySecret = requireSetting(env.RAZORPAY_KEY_SECRET, 'RAZORPAY_KEY_SECRET')
  const checked = CreateRazorpayOrderInput.safeParse(input)
  if (!checked.success) {
    throw new ApiError('BADRQ', {
      message: 'The order cannot be created with these values',
      details: checked.error.issues.map((issue) => ({
        path: issue.path.map(String),
        message: issue.message,
      })),
    })
  }
  const base = (env.RAZORPAY_API_BASE ?? RAZORPAY_API_BASE).replace(/\/+$/, '')
  const doFetch = options.fetch ?? globalThis.fetch

  let response: Response
  try {
    response = await doFetch(`${base}/v1/orders`, {
      method: 'POST',
      headers: {
        authorization: basicAuth(keyId, keySecret),
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify(checked.data),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    })
  } catch (cause) {
    throw providerError('Razorpay could not be reached', { status: null }, cause)
  }
  if (!response.ok) throw await refusal(response)

  let body: unknown
  try {
    body = await response.json()
  } catch (cause) {
    throw providerError(
      'Razorpay answered with something that is not JSON',
      { status: response.status },
      cause,
    )
  }
  const order = RazorpayOrder.safeParse(body)
  if (!order.success) {
    throw providerError(
      'Razorpay answered with something that is not an order',
      { status: response.status },
      order.error,
    )
  }
  return order.data
}
