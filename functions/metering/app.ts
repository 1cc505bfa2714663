import { type Context, Hono } from 'hono'
import * as z from 'zod'
import {
  ApiError,
  apiKeyOf,
  type Env,
  envOf,
  type ErrorCode,
  ErrorCodes,
  functionPath,
  notFound,
  onError,
  parseJson,
  RateState,
  rateLimited,
  setRateLimitHeaders,
} from '../../packages/core/src/index.ts'
import { type Db, poolFor } from '../../packages/db/src/client.ts'
import { healthCheck } from '../../packages/db/src/health.ts'

/** Hono env of the function: bindings are raw variables (tests pass them to `app.request`). */
export type MeteringEnv = { Bindings: Record<string, string | undefined> | undefined }

/** The pool of the metering function. */
export const dbFor = (env: Env): Db => poolFor(env, { max: 5, applicationName: 'tollgate-metering' })

/** POST /metering/consume: what tollgate.consume_usage takes. */
export const ConsumeRequest = z.strictObject({
  metric: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be a metric name, e.g. api_calls'),
  amount: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(1),
  idempotency_key: z.string().min(1).max(255).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
})

/** What tollgate_private.meter_request answers. */
const Metered = z.object({
  rate: RateState,
  answer: z.unknown().optional(),
  usage: z.array(z.unknown()).optional(),
  error: z
    .object({
      code: z.string(),
      message: z.string(),
      details: z.string().nullable(),
      hint: z.string().nullable(),
    })
    .optional(),
})

const keyOf = (c: Context): string => {
  const key = apiKeyOf(c)
  if (!key) {
    throw new ApiError('BDKEY', {
      message: 'Send an API key: x-api-key or Authorization: Bearer tg_...',
      hint: 'Make one with tollgate.create_api_key(name).',
    })
  }
  return key
}

// The one round trip: key check, the request counted, then the consume or the usage read.
const meter = async (
  db: Db,
  key: string,
  scope: 'consume' | 'read',
  request?: z.output<typeof ConsumeRequest>,
): Promise<z.output<typeof Metered>> => {
  const [row] = await db<{ value: unknown }[]>`
    select tollgate_private.meter_request(${key}, ${scope}, ${request?.metric ?? null},
      ${request?.amount ?? null}, ${request?.idempotency_key ?? null},
      ${request?.metadata ? db.json(request.metadata as Parameters<Db['json']>[0]) : null}) as value`
  return Metered.parse(row?.value)
}

// The headers first, so that every answer (429 and errors included) carries them; then 429, then
// the request's own error (`invalid`: its body failed validation), then the SQL's.
const answer = (c: Context, metered: z.output<typeof Metered>, invalid?: unknown): void => {
  setRateLimitHeaders(c, metered.rate)
  if (!metered.rate.allowed) throw rateLimited(c, metered.rate)
  if (invalid !== undefined) throw invalid
  const error = metered.error
  if (error) {
    const code = error.code as ErrorCode
    if (!Object.hasOwn(ErrorCodes, code)) throw new ApiError('INTRN', { cause: error })
    throw new ApiError(code, {
      message: error.message,
      details: error.details ?? undefined,
      hint: error.hint ?? undefined,
    })
  }
}

/**
 * The metering function: a user's own servers consume and read their usage with an API key
 * (`x-api-key` or `Authorization: Bearer tg_...`; no JWT). Every request counts one against the
 * owner's hourly `requests` limit (429 RATEL past it) and every answer carries X-RateLimit-*.
 * Not for browsers: no CORS, a key in a page is a key for anyone.
 */
export const app = new Hono<MeteringEnv>({ getPath: functionPath }).basePath('/metering')

app.onError(onError)
app.notFound(notFound)
app.get('/', healthCheck(dbFor))

app.post('/consume', async (c) => {
  const key = keyOf(c)
  // A bad body is still checked against the key and answered with the rate-limit state: the SQL
  // is sent no metric, fails inside its undone block, and nothing is counted.
  let request: z.output<typeof ConsumeRequest> | undefined
  let invalid: unknown
  try {
    request = await parseJson(c, ConsumeRequest)
  } catch (error) {
    invalid = error
  }
  const metered = await meter(dbFor(envOf(c.env)), key, 'consume', request)
  answer(c, metered, invalid)
  return c.json(metered.answer)
})

app.get('/usage', async (c) => {
  const metered = await meter(dbFor(envOf(c.env)), keyOf(c), 'read')
  answer(c, metered)
  return c.json(metered.usage ?? [])
})
