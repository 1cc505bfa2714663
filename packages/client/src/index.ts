/**
 * @tollgate/client: a typed wrapper over a supabase-js client for apps billed by Tollgate.
 * Reads go through PostgREST (schema `tollgate`, under RLS); payments go through the `billing`
 * edge function. Every failure is thrown as a TollgateError in the contract's error shape.
 */
import {
  FunctionsHttpError,
  type PostgrestError,
  type SupabaseClient,
} from '@supabase/supabase-js'
// Live = what subscriptions_one_live_per_user counts: at most one per user. An `incomplete`
// subscription (first payment not made) may exist beside it and is not the user's subscription.
import { LIVE_STATUSES } from './database.facts.ts'
import type {
  ApiKey,
  CheckoutResult,
  ConsumeResult,
  CreatedApiKey,
  Purchase,
  Subscription,
  SubscriptionResult,
  Usage,
  VerifyPaymentResult,
} from './answers.ts'
import type { Database, Json, Tables } from './database.types.ts'

export type {
  ApiKey,
  CheckoutResult,
  ConsumeResult,
  CreatedApiKey,
  Purchase,
  Subscription,
  SubscriptionResult,
  Usage,
  VerifyPaymentResult,
} from './answers.ts'
export type { Database, Json } from './database.types.ts'

/** A plan row as clients read it. */
export type PlanRow = Tables<'plans'>
/** One limit of a plan (-1 = unlimited). */
export type PlanLimit = Omit<Tables<'plan_limits'>, 'created_at' | 'updated_at'>
/** An active plan with its limits. */
export type Plan = PlanRow & { limits: PlanLimit[] }
/** An invoice row as its owner reads it. */
export type Invoice = Tables<'invoices'>

type CheckoutOptions = {
  provider?: 'stripe' | 'razorpay'
  coupon_code?: string
  success_url?: string
  cancel_url?: string
}
/** Body of POST /billing/checkout: a plan, or `quantity` (1-1000, default 1) of a product. */
export type CheckoutBody =
  | ({ plan_id: string } & CheckoutOptions)
  | ({ product_id: string; quantity?: number } & CheckoutOptions)
/** Body of POST /billing/verify-payment. */
export type VerifyPaymentBody =
  | { provider: 'stripe'; session_id: string }
  | {
      provider: 'razorpay'
      razorpay_order_id: string
      razorpay_payment_id: string
      razorpay_signature: string
    }

/** The contract's error body (PostgREST's shape). */
export type ErrorBody = { code: string; message: string; details: unknown; hint: unknown }

/** Any failure of a Tollgate call: `code` is the contract's (e.g. NOPLN, INAMT, NOJWT). */
export class TollgateError extends Error implements ErrorBody {
  override readonly name = 'TollgateError'
  readonly code: string
  readonly details: unknown
  readonly hint: unknown
  /** The HTTP status of the response; 401 for a NOJWT found before any request was sent. */
  readonly status: number | undefined

  constructor(body: ErrorBody, status?: number) {
    super(body.message)
    this.code = body.code
    this.details = body.details ?? null
    this.hint = body.hint ?? null
    this.status = status
  }

  /** The error as the contract's JSON body. */
  toJSON(): ErrorBody {
    return { code: this.code, message: this.message, details: this.details, hint: this.hint }
  }
}

/** Options of createTollgate. */
export type TollgateOptions = {
  /** Base of the edge functions (default: the client's `{SUPABASE_URL}/functions/v1`). */
  functionsUrl?: string
}

/** The Tollgate calls of one supabase-js client (its session is the caller). */
export type Tollgate = {
  /** Active plans with their limits, ordered by sort_order. */
  plans: () => Promise<Plan[]>
  /** The caller's live subscription, or null (on plan free). */
  mySubscription: () => Promise<Subscription | null>
  /** The caller's usage, one row per metric of their current plan. */
  myUsage: () => Promise<Usage[]>
  /** Counts `amount` (default 1) of `metric` against the caller's quota. */
  consume: (
    metric: string,
    amount?: number,
    idempotencyKey?: string,
    /** Stored on the ledger row (a JSON object, at most 4096 characters). */
    metadata?: Record<string, unknown>,
  ) => Promise<ConsumeResult>
  /** The caller's invoices, newest first. */
  myInvoices: () => Promise<Invoice[]>
  checkout: (body: CheckoutBody) => Promise<CheckoutResult>
  verifyPayment: (body: VerifyPaymentBody) => Promise<VerifyPaymentResult>
  changePlan: (planId: string) => Promise<SubscriptionResult>
  /** Cancels at the end of the period; the reason, when given, is kept in the audit log. */
  cancel: (reason?: string) => Promise<SubscriptionResult>
  resume: () => Promise<SubscriptionResult>
  portal: (returnUrl?: string) => Promise<{ url: string }>
  /**
   * Makes an API key for the caller's own server (`POST /metering/...` with `x-api-key`): the key
   * is in the answer only. QUOTA past the plan's `api_keys`.
   */
  createApiKey: (
    name: string,
    options?: { scopes?: ('consume' | 'read')[]; expiresAt?: string | null },
  ) => Promise<CreatedApiKey>
  /** Revokes one of the caller's keys at once (a second revoke changes nothing). */
  revokeApiKey: (id: string) => Promise<ApiKey>
  /** The caller's keys (live and revoked), newest first: metadata, never the keys. */
  myApiKeys: () => Promise<ApiKey[]>
  /**
   * Deletes the caller's Tollgate data (`POST /billing/delete-account {confirm: true}`): provider
   * subscriptions cancelled first, invoices kept without the person. Delete the Auth user after.
   */
  deleteAccount: () => Promise<Record<string, unknown>>
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** The contract's error from a PostgREST error. */
export const fromPostgrest = (error: PostgrestError, status?: number): TollgateError =>
  new TollgateError(
    {
      code: error.code || 'INTRN',
      message: error.message,
      details: error.details ?? null,
      hint: error.hint ?? null,
    },
    status,
  )

/** The contract's error from a function's error response (or INTRN when it is not one). */
export const fromResponse = async (response: Response): Promise<TollgateError> => {
  let body: unknown
  try {
    body = await response.json()
  } catch {
    body = undefined
  }
  if (isRecord(body) && typeof body.code === 'string' && typeof body.message === 'string') {
    return new TollgateError(
      { code: body.code, message: body.message, details: body.details, hint: body.hint },
      response.status,
    )
  }
  return new TollgateError(
    {
      code: 'INTRN',
      message: `The function answered ${response.status} without an error body`,
      details: { status: response.status },
      hint: null,
    },
    response.status,
  )
}

const unreachable = (error: unknown): TollgateError =>
  new TollgateError({
    code: 'INTRN',
    message: error instanceof Error ? error.message : 'The function could not be reached',
    details: null,
    hint: null,
  })

type Result<T> = { data: T; error: PostgrestError | null; status: number }

const notSignedIn = (details: unknown = null): TollgateError =>
  new TollgateError({ code: 'NOJWT', message: 'Sign in first', details, hint: null }, 401)

// PostgREST answers 401 for a token it rejects (PGRST3xx) and for a privilege an anonymous
// caller lacks (42501): the contract's BDJWT and NOJWT, with PostgREST's own error in details.
const authError = (error: PostgrestError, status: number): TollgateError | undefined => {
  if (status !== 401) return undefined
  const postgrest = { code: error.code, message: error.message, details: error.details ?? null }
  if (error.code === '42501') return notSignedIn({ postgrest })
  if (error.code?.startsWith('PGRST3')) {
    return new TollgateError(
      {
        code: 'BDJWT',
        message: 'The access token is invalid or expired',
        details: { postgrest },
        hint: null,
      },
      status,
    )
  }
  return undefined
}

const unwrap = <T>({ data, error, status }: Result<T>): T => {
  if (error) throw authError(error, status) ?? fromPostgrest(error, status)
  return data
}

// The payload of a JWT, unverified: PostgREST verifies it; here it only names the caller.
const claimsOf = (jwt: string | null | undefined): Record<string, unknown> | null => {
  const payload = jwt?.split('.')[1]
  if (!payload) return null
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/')
    const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0))
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes))
    return isRecord(claims) ? claims : null
  } catch {
    return null
  }
}

/** What a supabase-js client keeps about the token it sends (protected members, stable in v2). */
type ClientInternals = {
  headers?: Record<string, string>
  accessToken?: () => Promise<string | null>
}

const toUsage = (row: Tables<'usage'>): Usage => ({
  metric: row.metric ?? '',
  period: row.period ?? '',
  period_start: row.period_start,
  period_end: row.period_end,
  used: row.used ?? 0,
  quota: row.quota ?? 0,
  remaining: row.remaining,
  credits: row.credits ?? 0,
})

/** Wraps a supabase-js client (any schema default) in Tollgate's typed calls. */
export const createTollgate = (
  supabase: SupabaseClient<any, any, any>,
  options: TollgateOptions = {},
): Tollgate => {
  const typed = supabase as unknown as SupabaseClient<Database, 'tollgate'>
  const db = () => typed.schema('tollgate')
  // The client's own fetch adds the apikey and the session's Authorization, as invoke does.
  const clientFetch = (supabase as unknown as { fetch?: typeof fetch }).fetch ?? fetch

  // The bearer token the client's requests carry, as supabase-js picks it: an Authorization
  // header given in `global.headers`, else the `accessToken` option, else the Auth session.
  const tokenSent = async (): Promise<string | null> => {
    const internals = supabase as unknown as ClientInternals
    const header = Object.entries(internals.headers ?? {}).find(
      ([name]) => name.toLowerCase() === 'authorization',
    )?.[1]
    if (header !== undefined) return /^Bearer\s+(\S+)/i.exec(header)?.[1] ?? null
    if (internals.accessToken) return internals.accessToken()
    const { data, error } = await supabase.auth.getSession()
    return error ? null : (data.session?.access_token ?? null)
  }

  // RLS lets admins read every user's rows, so "my" rows are filtered by the token's user.
  const me = async (): Promise<{ id: string; admin: boolean }> => {
    const claims = claimsOf(await tokenSent())
    // API keys (anon, service_role) carry no `sub`: nobody is signed in.
    if (typeof claims?.sub !== 'string' || claims.sub === '') throw notSignedIn()
    const appMetadata = claims.app_metadata
    return { id: claims.sub, admin: isRecord(appMetadata) && appMetadata.role === 'admin' }
  }
  const myId = async (): Promise<string> => (await me()).id

  const call = async <T>(route: string, body: Record<string, unknown> = {}): Promise<T> => {
    if (options.functionsUrl) {
      let response: Response
      try {
        response = await clientFetch(`${options.functionsUrl.replace(/\/$/, '')}/billing/${route}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      } catch (error) {
        throw unreachable(error)
      }
      if (!response.ok) throw await fromResponse(response)
      return (await response.json()) as T
    }
    const { data, error } = await supabase.functions.invoke(`billing/${route}`, {
      method: 'POST',
      body,
    })
    if (error instanceof FunctionsHttpError && error.context instanceof Response) {
      throw await fromResponse(error.context)
    }
    if (error) throw unreachable(error)
    return data as T
  }

  return {
    plans: async () =>
      (unwrap(
        await db()
          .from('plans')
          .select('*, limits:plan_limits(plan_id, metric, quota, period, carry_over)')
          .eq('active', true)
          .order('sort_order')
          .order('metric', { referencedTable: 'limits' }),
      ) ?? []) as Plan[],

    mySubscription: async () =>
      unwrap(
        await db()
          .from('subscriptions')
          .select('*')
          .eq('user_id', await myId())
          .in('status', [...LIVE_STATUSES])
          .maybeSingle(),
      ),

    myUsage: async () => {
      const { id, admin } = await me()
      // For an admin the usage view computes every user's rows before any filter applies;
      // usage_of computes the one user's (admins and the service role only).
      const rows = admin
        ? unwrap(await db().rpc('usage_of', { user_id: id }).order('metric'))
        : unwrap(await db().from('usage').select('*').eq('user_id', id).order('metric'))
      return rows?.map(toUsage) ?? []
    },

    consume: async (metric, amount, idempotencyKey, metadata) =>
      unwrap(
        await db().rpc('consume_usage', {
          metric,
          ...(amount === undefined ? {} : { amount }),
          ...(idempotencyKey === undefined ? {} : { idempotency_key: idempotencyKey }),
          ...(metadata === undefined ? {} : { metadata: metadata as Json }),
        }),
      ) as ConsumeResult,

    myInvoices: async () =>
      unwrap(
        await db()
          .from('invoices')
          .select('*')
          .eq('user_id', await myId())
          .order('created_at', { ascending: false }),
      ) ?? [],

    checkout: (body) => call('checkout', body),
    verifyPayment: (body) => call('verify-payment', body),
    changePlan: (planId) => call('change-plan', { plan_id: planId }),
    cancel: (reason) => call('cancel', reason === undefined ? {} : { reason }),
    resume: () => call('resume'),
    portal: (returnUrl) => call('portal', returnUrl === undefined ? {} : { return_url: returnUrl }),

    createApiKey: async (name, keyOptions = {}) =>
      unwrap(
        await db().rpc('create_api_key', {
          name,
          ...(keyOptions.scopes === undefined ? {} : { scopes: keyOptions.scopes }),
          ...(keyOptions.expiresAt === undefined ? {} : { expires_at: keyOptions.expiresAt as string }),
        }),
      ) as unknown as CreatedApiKey,

    revokeApiKey: async (id) => unwrap(await db().rpc('revoke_api_key', { id })) as unknown as ApiKey,

    myApiKeys: async () =>
      unwrap(
        await db()
          .from('api_keys')
          .select('*')
          .eq('user_id', await myId())
          .order('created_at', { ascending: false }),
      ) ?? [],

    deleteAccount: () => call('delete-account', { confirm: true }),
  }
}
