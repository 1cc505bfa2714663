import { randomUUID } from 'node:crypto'
import { inject } from 'vitest'
import {
  createStripeWebhookApp,
  type StripeWebhookDeps,
} from '../../../functions/stripe-webhook/app.ts'
import { createDb, type Db } from '../../../packages/db/src/client.ts'
import { createUser, ownerSql, type Sql } from '../db.ts'
import { createFakeStripe, type FakeStripe } from '../fake-stripe.ts'
import { type SignedDelivery, signedDelivery, type StripeJson } from './events.ts'
import {
  newWorld,
  type StripeWorld,
  type SubscriptionOptions,
  subscriptionFixture,
} from './fixtures.ts'

/** The endpoint secret the tests sign with. */
export const WEBHOOK_SECRET = 'whsec_tollgate_webhook_tests'

/** The stripe-webhook app wired to the test database and a fake Stripe. */
export type WebhookHarness = {
  app: ReturnType<typeof createStripeWebhookApp>
  fake: FakeStripe
  /** The app's own pool (application_name = `applicationName`). */
  db: Db
  applicationName: string
  /** An owner pool for assertions. */
  sql: Sql
  env: Record<string, string>
  /** Signs `event` with the endpoint secret (or `secret`) and POSTs it. */
  deliver: (
    event: StripeJson,
    options?: { secret?: string; timestamp?: number },
  ) => Promise<Response>
  /** POSTs a prepared body and headers. */
  post: (delivery: SignedDelivery, env?: Record<string, string | undefined>) => Promise<Response>
  close: () => Promise<void>
}

/** Starts a fake Stripe and builds the webhook app on its own pool; `close()` in afterAll. */
export const webhookHarness = async (
  deps: Omit<StripeWebhookDeps, 'db'> = {},
): Promise<WebhookHarness> => {
  const fake = await createFakeStripe()
  const applicationName = `stripe-webhook-test-${randomUUID().slice(0, 8)}`
  const db = createDb(inject('databaseUrl'), { applicationName, max: 4 })
  const sql = ownerSql()
  const app = createStripeWebhookApp({ ...deps, db: () => db })
  const env = {
    DATABASE_URL: inject('databaseUrl'),
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_SECRET_KEY: 'sk_test_webhook_tests',
    STRIPE_API_BASE: fake.url,
  }
  const post: WebhookHarness['post'] = (delivery, overrides = {}) =>
    Promise.resolve(
      app.request(
        '/stripe-webhook',
        { method: 'POST', headers: delivery.headers, body: delivery.body },
        { ...env, ...overrides },
      ),
    )
  return {
    app,
    fake,
    db,
    applicationName,
    sql,
    env,
    post,
    deliver: async (event, options = {}) =>
      post(
        await signedDelivery(event, options.secret ?? WEBHOOK_SECRET, {
          ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
        }),
      ),
    close: async () => {
      // end() without a timeout never settles once a backend was killed mid-query
      // (postgres.js 3.4.9, porsager/postgres#1097): give stranded connections a second.
      await Promise.all([fake.close(), db.end({ timeout: 1 }), sql.end({ timeout: 5 })])
    },
  }
}

/** The columns of tollgate.subscriptions a test compares (times as Unix seconds). */
export type SubscriptionRow = {
  id: string
  plan_id: string
  status: string
  provider: string
  current_period_start: number | null
  current_period_end: number | null
  billing_cycle_anchor: number | null
  cancel_at_period_end: boolean
  canceled_at: number | null
  ended_at: number | null
  trial_end: number | null
}

const epoch = (column: string) => `extract(epoch from ${column})::bigint::int as ${column}`

/** The user's subscriptions, oldest first. */
export const subscriptionsOf = (sql: Sql, userId: string): Promise<SubscriptionRow[]> =>
  sql.unsafe<SubscriptionRow[]>(
    `select id, plan_id, status, provider, ${epoch('current_period_start')},
       ${epoch('current_period_end')}, ${epoch('billing_cycle_anchor')}, cancel_at_period_end,
       ${epoch('canceled_at')}, ${epoch('ended_at')}, ${epoch('trial_end')}
     from tollgate.subscriptions where user_id = $1 order by created_at, id`,
    [userId],
  )

/** The columns of tollgate.invoices a test compares (times as Unix seconds). */
export type InvoiceRow = {
  subscription_id: string | null
  provider: string
  number: string | null
  status: string
  currency: string
  amount_due: string
  amount_paid: string
  period_start: number | null
  period_end: number | null
  hosted_invoice_url: string | null
  invoice_pdf: string | null
  paid_at: number | null
}

/** The user's invoices, oldest first. */
export const invoicesOf = (sql: Sql, userId: string): Promise<InvoiceRow[]> =>
  sql.unsafe<InvoiceRow[]>(
    `select subscription_id, provider, number, status, currency, amount_due, amount_paid,
       ${epoch('period_start')}, ${epoch('period_end')}, hosted_invoice_url, invoice_pdf,
       ${epoch('paid_at')}
     from tollgate.invoices where user_id = $1 order by created_at, number`,
    [userId],
  )

/** A ledger row of tollgate_private.webhook_events. */
export type LedgerRow = {
  event_id: string
  type: string
  api_version: string | null
  outcome: string | null
  error: string | null
  attempts: number
  processed: boolean
}

/** The ledger rows of these Stripe events, in the order of `eventIds`. */
export const ledgerOf = async (sql: Sql, eventIds: string[]): Promise<LedgerRow[]> => {
  const rows = await sql<LedgerRow[]>`
    select event_id, type, api_version, outcome, error, attempts, processed_at is not null as processed
    from tollgate_private.webhook_events
    where provider = 'stripe' and event_id = any(${eventIds})`
  return eventIds.flatMap((id) => rows.filter((row) => row.event_id === id))
}

/** The audit rows of the user's subscriptions, in order. */
export const auditOf = (
  sql: Sql,
  userId: string,
): Promise<{ action: string; old_values: unknown; new_values: unknown; reason: string | null }[]> =>
  sql`
    select action, old_values, new_values, reason from tollgate_private.audit_log
    where table_name = 'subscriptions' and user_id = ${userId}
    order by id`

/** The Stripe customer linked to the user, if any. */
export const customerOf = async (sql: Sql, userId: string): Promise<string | null> => {
  const [row] = await sql<{ id: string }[]>`
    select provider_customer_id as id from tollgate_private.customers
    where user_id = ${userId} and provider = 'stripe'`
  return row?.id ?? null
}

/** The response's status and JSON body. */
export const answer = async (response: Response): Promise<{ status: number; body: unknown }> => ({
  status: response.status,
  body: await response.json(),
})

/** A new user, and at the fake Stripe the subscription their checkout created (`options`). */
export const userWithSubscriptionAtStripe = async (
  h: Pick<WebhookHarness, 'fake' | 'sql'>,
  options: SubscriptionOptions = {},
): Promise<StripeWorld> => {
  const world = newWorld((await createUser(h.sql)).id)
  h.fake.state.subscriptions.set(world.subscriptionId, subscriptionFixture(world, options))
  return world
}
