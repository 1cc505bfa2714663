import type { BenchDatabase } from './database.ts'

/** Figures of issue 5 item 5 (signed Stripe events POSTed to the local server). */
export type WebhookFigures = {
  measured: true
  /** events/s end to end, p50/p99 ms, per concurrency (8, 32), first delivery and duplicates. */
  rows: {
    clients: number
    replay: 'first' | 'duplicate'
    eventsPerSecond: number
    p50Ms: number
    p99Ms: number
  }[]
  /** Correctness: every event applied exactly once (quick mode asserts this). */
  appliedOnce: boolean
}

/** What the report shows while item 5 cannot run. */
export type WebhooksNotMeasured = { measured: false; note: string }

/** How the runner calls the webhook benchmark. */
export type WebhookBench = (context: {
  database: BenchDatabase
  quick: boolean
  warmupMs: number
  measureMs: number
}) => Promise<WebhookFigures>

/**
 * HOOK (issue 5, item 5: webhooks). Not measured yet: this database part was written before the
 * payment functions (functions/stripe-webhook and the SQL that applies events) existed. Set this
 * to a WebhookBench that builds signed Stripe events for 1,000 distinct users (subscription
 * created/updated, invoice paid, checkout completed), POSTs them over HTTP to the local server on
 * Node at 8 and 32 concurrent clients, then replays the stream as duplicates; target >= 1,500
 * events/s. run-bench.ts calls it after the database figures and reports "not measured yet" while
 * it is undefined.
 */
export const webhookBench: WebhookBench | undefined = undefined

/** The note printed in place of the webhook figures. */
export const WEBHOOKS_NOT_MEASURED: WebhooksNotMeasured = {
  measured: false,
  note: 'not measured yet: the webhook benchmark is still to be written (hook in bench/lib/webhooks.ts)',
}
