import * as z from 'zod'
import { ApiError } from './http.ts'

const Text = z.string().min(1)

// An http(s) URL without trailing slashes, so `${base}/path` never doubles one.
const HttpUrl = z.url({ protocol: /^https?$/ }).transform((value) => value.replace(/\/+$/, ''))

const Origin = z
  .url({ protocol: /^https?$/ })
  .refine((value) => {
    const url = new URL(value)
    return url.pathname === '/' && url.search === '' && url.hash === ''
  }, 'must be an origin (scheme://host[:port]), without a path')
  .transform((value) => new URL(value).origin)

const OriginList = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  )
  .pipe(z.array(Origin))

const MS_PER_UNIT: Record<string, number> = { ms: 1, s: 1000, min: 60_000 }

// A duration as Postgres writes statement_timeout (8s, 500ms, 1min; a bare number is ms), in ms.
const Milliseconds = z
  .string()
  .regex(/^\d{1,7}(ms|s|min)?$/, 'must be a duration such as 8s or 500ms')
  .transform((value) => {
    const [, amount, unit] = /^(\d+)(\D*)$/.exec(value) ?? []
    return Number(amount) * (MS_PER_UNIT[unit || 'ms'] ?? 1)
  })

const Port = z
  .string()
  .regex(/^\d{1,5}$/)
  .transform(Number)
  .pipe(z.number().int().max(65535))

/** The environment variables of CONTRACT.md, all optional; URLs validated, lists split. */
export const Env = z.object({
  DATABASE_URL: Text.optional(),
  SUPABASE_DB_URL: Text.optional(),
  SUPABASE_JWT_SECRET: Text.optional(),
  /** The same HS256 secret under a name `supabase secrets set` accepts (it refuses SUPABASE_*). */
  TOLLGATE_JWT_SECRET: Text.optional(),
  SUPABASE_URL: HttpUrl.optional(),
  STRIPE_SECRET_KEY: Text.optional(),
  STRIPE_WEBHOOK_SECRET: Text.optional(),
  STRIPE_API_BASE: HttpUrl.optional(),
  RAZORPAY_KEY_ID: Text.optional(),
  RAZORPAY_KEY_SECRET: Text.optional(),
  RAZORPAY_WEBHOOK_SECRET: Text.optional(),
  RAZORPAY_API_BASE: HttpUrl.optional(),
  PORT: Port.optional(),
  TOLLGATE_REDIRECT_ORIGINS: OriginList.optional(),
  /** Browser origins that may call the functions (CORS); default TOLLGATE_REDIRECT_ORIGINS'. */
  TOLLGATE_ALLOWED_ORIGINS: OriginList.optional(),
  /** statement_timeout of the functions' connections, in ms (default 8s). */
  TOLLGATE_DB_STATEMENT_TIMEOUT: Milliseconds.optional(),
  /** lock_timeout of the functions' connections, in ms (default 3s). */
  TOLLGATE_DB_LOCK_TIMEOUT: Milliseconds.optional(),
  /** Resend's API key; without it the notifications worker logs emails instead of sending them. */
  RESEND_API_KEY: Text.optional(),
  RESEND_API_BASE: HttpUrl.optional(),
  /** The From of every email, e.g. `Acme Billing <billing@acme.com>`. */
  TOLLGATE_EMAIL_FROM: Text.optional(),
  /** The app's URL: links in emails (invoices, the preferences page at /settings/notifications). */
  TOLLGATE_APP_URL: HttpUrl.optional(),
  TOLLGATE_DB_PREPARE: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional(),
})

/** The parsed environment. */
export type Env = z.output<typeof Env>

/** Raw variables as a runtime hands them over. */
export type EnvSource = Record<string, string | undefined>

// Typed by hand so this file needs neither @types/deno nor @types/node.
type RuntimeGlobals = {
  Deno?: { env: { toObject(): Record<string, string> } }
  process?: { env: EnvSource }
}

const runtimeEnv = (): EnvSource => {
  const runtime = globalThis as unknown as RuntimeGlobals
  return runtime.Deno?.env.toObject() ?? runtime.process?.env ?? {}
}

/** Parses the environment (default: Deno's, else Node's); empty values count as unset. */
export const readEnv = (source: EnvSource = runtimeEnv()): Env => {
  const set = Object.fromEntries(
    Object.entries(source).filter(([, value]) => value !== undefined && value !== ''),
  )
  const parsed = Env.safeParse(set)
  if (parsed.success) return parsed.data
  // Names only: values may be secrets.
  const invalid = [...new Set(parsed.error.issues.map((issue) => String(issue.path[0])))]
  throw new ApiError('NOCFG', { message: 'Some settings are invalid', details: { invalid } })
}

const NAMES = Object.keys(Env.shape)

// Parsed once per process or isolate: the runtime's variables do not change while it serves.
let runtimeParsed: Env | undefined
const parsedByBindings = new WeakMap<object, Env>()

// The variables a bindings object sets (a string) or unsets (undefined); anything else is not a
// variable (Deno.serve passes its connection info there).
const overridesOf = (bindings: object): EnvSource | null => {
  let overrides: EnvSource | null = null
  for (const name of NAMES) {
    if (!(name in bindings)) continue
    const value: unknown = (bindings as Record<string, unknown>)[name]
    if (typeof value === 'string' || value === undefined) (overrides ??= {})[name] = value
  }
  return overrides
}

/**
 * The runtime's variables overridden by a request's bindings (Hono's `c.env`: app.request's third
 * argument in tests, the local gateway's variables); parsed once per process and per bindings
 * object, so a bindings object must not change once used.
 */
export const envOf = (bindings: unknown): Env => {
  if (typeof bindings === 'object' && bindings !== null) {
    const cached = parsedByBindings.get(bindings)
    if (cached) return cached
    const overrides = overridesOf(bindings)
    if (overrides) {
      const env = readEnv({ ...runtimeEnv(), ...overrides })
      parsedByBindings.set(bindings, env)
      return env
    }
  }
  runtimeParsed ??= readEnv()
  return runtimeParsed
}

/** The value of `name`, or ApiError NOCFG (503) naming the missing variable. */
export const requireEnv = <K extends keyof Env>(env: Env, name: K): NonNullable<Env[K]> => {
  const value = env[name]
  if (value === undefined || value === null) {
    throw new ApiError('NOCFG', { details: { missing: name } })
  }
  return value
}
