import postgres from 'postgres'
import { app as billingApp } from '../../functions/billing/app.ts'
import { createRazorpayWebhookApp } from '../../functions/razorpay-webhook/app.ts'
import { createStripeWebhookApp } from '../../functions/stripe-webhook/app.ts'
import { createDb, type Db } from '../../packages/db/src/client.ts'
import { applyMigrations, applySeed } from '../../packages/db/src/migrate.ts'
import {
  JWT_SECRET,
  ORIGIN,
  STRIPE_WEBHOOK_SECRET,
  signToken,
  type Answer,
  type Caller,
} from '../helpers/billing.ts'
import { createScratchDatabase, createUser, type ScratchDatabase } from '../helpers/db.ts'
import { startFakeRazorpay, type FakeRazorpay } from '../helpers/fake-razorpay.ts'
import { createFakeStripe, type FakeStripe } from '../helpers/fake-stripe.ts'
import type { StripeJson } from '../helpers/stripe/events.ts'

/**
 * The real system the model drives: its own scratch database (migrations and seed applied), so
 * `run_maintenance(as_of)` on a clock ahead of real time touches no other test's rows; the billing
 * app over `app.request`; both webhook apps, signed for real; the fake Stripe and Razorpay APIs.
 *
 * THE CLOCK. Postgres' now() is real time: the billing routes pass it into SQL and the
 * subscriptions trigger re-syncs counters at it. The model clock is real time plus `offset`
 * (seconds), which only grows. Provider objects (the fake Stripe's `now`, Razorpay webhook
 * `created_at`) and every as_of-taking call (consume_usage, entitlement, run_maintenance) follow
 * the model clock; route steps run on real time. While offset = 0 the two agree. Once time has
 * moved, what the model does NOT cover because of it:
 * - a subscription change after a jump re-syncs counters at real now(), i.e. in the past of the
 *   model clock, so the counter may take a window the model clock has already left and roll at the
 *   next consume. The counter rules therefore compare only steps inside one counter period
 *   (same period_start), and a reset that also moves period_start is not judged;
 * - Razorpay verify-payment stamps the paid period at real now(): after a jump the model applies
 *   Razorpay payments through the webhook only (its created_at is the model clock);
 * - API snapshots applied by the routes are stamped with real now(), older than the provider's
 *   events after a jump: the "snapshot wins over newer events" half of H-1 is only exercised
 *   while offset = 0.
 */
/** One row of tollgate.plan_limits. */
export type PlanLimit = { plan_id: string; metric: string; quota: number; period: string; carry_over: boolean }

export type System = {
  db: ScratchDatabase
  /** Owner pool on the scratch database. */
  sql: postgres.Sql
  stripe: FakeStripe
  razorpay: FakeRazorpay
  env: Record<string, string>
  /** `offset` only grows; `frozen` (set at each step's start) holds the clock still inside a step. */
  clock: { offset: number; frozen: number | null }
  /** The model clock, Unix seconds: frozen inside a step, as one Stripe API call stamps one second. */
  now: () => number
  /** Freezes the model clock at real time plus offset (never moving back) for the next step. */
  tick: () => void
  signIn: () => Promise<Caller>
  /** The plan limits as seeded (pro_trial's included): what admin_edit_limit edits and a run starts from. */
  seedLimits: PlanLimit[]
  /** past_due_grace as seeded, in seconds: what a run starts from. */
  seedGraceSeconds: number
  /** Marks that a run's admin changed the grace or a plan limit (restoreAdminSettings then undoes it). */
  adminEdited: () => void
  /** Puts past_due_grace and the plan limits back as seeded when a run changed them. */
  restoreAdminSettings: () => Promise<void>
  post: (route: string, caller: Caller, body?: unknown) => Promise<Answer>
  deliverStripe: (event: StripeJson) => Promise<Answer>
  deliverRazorpay: (init: { method: 'POST'; headers: Record<string, string>; body: string }) => Promise<Answer>
  close: () => Promise<void>
}

const answerOf = async (response: Response): Promise<Answer> => {
  const text = await response.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // Kept as text: the counterexample shows what came back.
  }
  return { status: response.status, body }
}

/**
 * Stripe-looking event ids from a seeded generator: random order, as Stripe's ids have (ties of
 * `created` must not follow them), in the same order for the same fast-check run, so a
 * counterexample replays and shrinks.
 */
export const eventIds = (seed: number, unique: string): (() => string) => {
  let state = seed >>> 0 || 0x9e3779b9
  const next = (): number => {
    // xorshift32
    state ^= state << 13
    state >>>= 0
    state ^= state >>> 17
    state ^= state << 5
    state >>>= 0
    return state
  }
  // The seeded part decides the order of ids; the run's own suffix keeps them unique in the database.
  return () =>
    `evt_${Array.from({ length: 2 }, () => next().toString(16).padStart(8, '0')).join('')}${unique}`
}

/** Builds the system on a fresh scratch database; `close()` in afterAll. */
export const startSystem = async (): Promise<System> => {
  const db = await createScratchDatabase()
  const migrate = postgres(db.url, { max: 1, onnotice: () => {} })
  try {
    await applyMigrations(migrate)
    await applySeed(migrate)
    // A plan with a 14-day trial, only in this scratch database (the seed has none): pro's limits.
    await migrate`
      insert into tollgate.plans (id, name, description, amount, currency, "interval", trial_days,
        features, active, sort_order, stripe_price_id)
      values ('pro_trial', 'Pro (trial)', 'Pro with a 14-day trial.', 2900, 'usd', 'month', 14,
        array['Pro, 14 days free'], true, 15, 'price_pro_trial_monthly')`
    await migrate`
      insert into tollgate.plan_limits (plan_id, metric, quota, period, carry_over)
      select 'pro_trial', metric, quota, period, carry_over from tollgate.plan_limits
      where plan_id = 'pro'`
  } finally {
    await migrate.end()
  }
  const sql = postgres(db.url, { max: 4, onnotice: () => {}, prepare: false })
  const seedLimits = (
    await sql<PlanLimit[]>`
      select plan_id, metric, quota::float8 as quota, period, carry_over from tollgate.plan_limits
      order by plan_id, metric`
  ).map((row) => ({ ...row }))
  const [grace] = await sql<{ seconds: number }[]>`
    select extract(epoch from past_due_grace)::float8 as seconds from tollgate_private.settings`
  const seedGraceSeconds = grace?.seconds ?? 0
  let edited = false
  const clock: System['clock'] = { offset: 0, frozen: null }
  const live = (): number => Math.floor(Date.now() / 1000) + clock.offset
  const now = (): number => clock.frozen ?? live()
  const tick = (): void => {
    clock.frozen = Math.max(clock.frozen ?? 0, live())
  }
  const stripe = await createFakeStripe({
    now,
    prices: {
      price_pro_trial_monthly: {
        unit_amount: 2900,
        currency: 'usd',
        interval: 'month',
        product: 'prod_pro_trial',
      },
    },
  })
  const razorpay = await startFakeRazorpay()
  const webhookDb: Db = createDb(db.url, { applicationName: 'tollgate-model-webhooks', max: 2 })
  const stripeWebhook = createStripeWebhookApp({ db: () => webhookDb })
  const razorpayWebhook = createRazorpayWebhookApp({ db: () => webhookDb })
  const env: Record<string, string> = {
    DATABASE_URL: db.url,
    SUPABASE_JWT_SECRET: JWT_SECRET,
    STRIPE_SECRET_KEY: 'sk_test_tollgate_model',
    STRIPE_WEBHOOK_SECRET,
    STRIPE_API_BASE: stripe.url,
    ...razorpay.env,
    TOLLGATE_REDIRECT_ORIGINS: ORIGIN,
  }
  return {
    db,
    sql,
    stripe,
    razorpay,
    env,
    clock,
    now,
    tick,
    signIn: async () => {
      const user = await createUser(sql)
      return { ...user, token: await signToken(user.claims) }
    },
    seedLimits,
    seedGraceSeconds,
    adminEdited: () => {
      edited = true
    },
    restoreAdminSettings: async () => {
      if (!edited) return
      // As an admin would in Studio: the triggers mark every counter the change touches due.
      await sql.begin(async (tx) => {
        await tx`update tollgate_private.settings set past_due_grace = make_interval(secs => ${seedGraceSeconds})
          where past_due_grace <> make_interval(secs => ${seedGraceSeconds})`
        await tx`delete from tollgate.plan_limits l
          where not exists (select from jsonb_to_recordset(${tx.json(seedLimits)}) as s(plan_id text, metric text)
            where s.plan_id = l.plan_id and s.metric = l.metric)`
        await tx`insert into tollgate.plan_limits as l (plan_id, metric, quota, period, carry_over)
          select plan_id, metric, quota, period, carry_over
          from jsonb_to_recordset(${tx.json(seedLimits)})
            as s(plan_id text, metric text, quota bigint, period text, carry_over boolean)
          on conflict (plan_id, metric) do update
            set quota = excluded.quota, period = excluded.period, carry_over = excluded.carry_over
            where (l.quota, l.period, l.carry_over) is distinct from (excluded.quota, excluded.period, excluded.carry_over)`
      })
      edited = false
    },
    post: async (route, caller, body) =>
      answerOf(
        await billingApp.request(
          `/billing/${route}`,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${caller.token}` },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          },
          env,
        ),
      ),
    deliverStripe: async (event) => {
      const delivery = await stripe.signedDelivery(event, STRIPE_WEBHOOK_SECRET)
      return answerOf(
        await stripeWebhook.request(
          '/stripe-webhook',
          { method: 'POST', headers: delivery.headers, body: delivery.body },
          env,
        ),
      )
    },
    deliverRazorpay: async (init) =>
      answerOf(await razorpayWebhook.request('/razorpay-webhook', init, env)),
    close: async () => {
      await Promise.all([stripe.close(), razorpay.close(), webhookDb.end(), sql.end()])
      // The billing app keeps a pool per database URL for the process: end it before the drop.
      await db.drop()
    },
  }
}
