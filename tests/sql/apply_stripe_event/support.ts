import type { Queryable, Tx } from '../../helpers/db.ts'
import type { StripeJson } from '../../helpers/stripe/events.ts'

/** What apply_stripe_event answers. */
export type ApplyResult = {
  outcome: string
  event_id: string
  type: string
  error?: string
  user_id?: string
  subscription_id?: string
  invoice_id?: string
}

/** Calls tollgate_private.apply_stripe_event as the webhook does (text cast to jsonb). */
export const applyEvent = async (
  tx: Queryable,
  event: StripeJson,
  related: StripeJson | null = null,
): Promise<ApplyResult> => {
  const [row] = await tx<{ result: ApplyResult }[]>`
    select tollgate_private.apply_stripe_event(
      ${JSON.stringify(event)}::text::jsonb, ${
    related === null ? null : JSON.stringify(related)
  }::text::jsonb
    ) as result`
  if (!row) throw new Error('no result')
  return row.result
}

/** The ledger row of a Stripe event, or undefined. */
export const ledgerRow = async (tx: Tx, eventId: string) => {
  const [row] = await tx<
    {
      type: string
      api_version: string | null
      event_created_at: number | null
      outcome: string | null
      error: string | null
      attempts: number
      processed: boolean
    }[]
  >`
    select type, api_version, extract(epoch from event_created_at)::int as event_created_at, outcome,
      error, attempts, processed_at is not null as processed
    from tollgate_private.webhook_events where provider = 'stripe' and event_id = ${eventId}`
  return row
}

/** The user's subscriptions (status, plan, periods as Unix seconds), oldest first. */
export const subscriptionsOf = (tx: Tx, userId: string) =>
  tx<
    {
      id: string
      plan_id: string
      status: string
      current_period_start: number | null
      current_period_end: number | null
      cancel_at_period_end: boolean
    }[]
  >`
    select id, plan_id, status, extract(epoch from current_period_start)::int as current_period_start,
      extract(epoch from current_period_end)::int as current_period_end, cancel_at_period_end
    from tollgate.subscriptions where user_id = ${userId} order by created_at, id`

/** Rows this transaction has inserted, updated and HOT-updated in `table` so far. */
export const tableWrites = async (tx: Tx, table: string) => {
  const [row] = await tx<{ inserted: number; updated: number; hot: number }[]>`
    select n_tup_ins::int as inserted, n_tup_upd::int as updated, n_tup_hot_upd::int as hot
    from pg_catalog.pg_stat_xact_user_tables where relid = ${table}::regclass`
  return row ?? { inserted: 0, updated: 0, hot: 0 }
}
