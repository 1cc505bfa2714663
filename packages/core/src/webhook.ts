import type { Context, Handler } from 'hono'
import type postgres from 'postgres'
import { type Env, envOf } from './env.ts'
import { statusForCode } from './errors.ts'
import { ApiError } from './http.ts'
import { log } from './log.ts'

/** The database handle the pipeline writes failure notes with (postgres.js; packages/db's Db). */
export type WebhookDb = postgres.Sql<any>

/** The SQLSTATE of a postgres.js error (5 characters, with a severity), else null. */
export const sqlStateOf = (error: unknown): string | null => {
  if (typeof error !== 'object' || error === null) return null
  const { code, severity } = error as { code?: unknown; severity?: unknown }
  return typeof code === 'string' && code.length === 5 && typeof severity === 'string' ? code : null
}

// A signed payload Postgres cannot take as jsonb (\u0000, lone surrogates) or whose values have
// the wrong format: the event is bad, retrying cannot help.
const BAD_PAYLOAD_STATES = new Set(['22P02', '22P05'])

/** A verified event: the ledger's key and the exact text that was signed. */
export type VerifiedEvent = { id: string; type: string; raw: string }

/** What the steps after verification get. */
export type WebhookStep<E, D> = { env: Env; db: D; event: E }

/**
 * One provider's webhook: how its deliveries are verified and applied. The pipeline runs
 * verify → (fetch) → apply (one SQL call) → (re-apply) → outcome log → (after) → 200, and
 * turns a failure after verification into 400 BADEV for a bad event or 5xx (noted by
 * tollgate_private.record_webhook_failure in its own transaction) so the provider retries.
 */
export type WebhookPipeline<E extends VerifiedEvent, R, D extends WebhookDb> = {
  /** The ledger's provider name; logs are `<provider>_webhook`. */
  provider: string
  db: (env: Env) => D
  /**
   * Checks the configuration, reads the body and verifies its signature; throws ApiError NOCFG
   * (503), BADSG (400) for a missing or wrong signature, BADEV (400) for a body that is no event.
   * `db()` opens the database early, for a provider that checks its settings first.
   */
  verify: (c: Context, env: Env, db: () => D) => Promise<E>
  /** What the apply needs from the provider first (a JSON text), or null. */
  fetch?: (step: WebhookStep<E, D>) => Promise<string | null>
  /** The one SQL call that records and applies the event, given what `fetch` returned. */
  apply: (step: WebhookStep<E, D>, fetched: string | null) => Promise<R>
  /** When the result asks for it, what to apply again with (a JSON text); else null. */
  refetch?: (step: WebhookStep<E, D>, result: R) => Promise<string | null>
  /** Fields of the outcome log line, after event_id and type. */
  outcome: (event: E, result: R) => Record<string, unknown>
  /** Runs after the apply committed (provider calls it made due). */
  after?: (step: WebhookStep<E, D>, result: R) => Promise<void>
  /** Maps a provider SDK error to an ApiError (default: unchanged). */
  providerError?: (error: unknown) => unknown
  /** The code a failure note starts with when the error is neither an ApiError nor SQL. */
  unknownCode?: (error: unknown) => string
}

/** The POST handler of a webhook function; the app keeps its routes, health check and errors. */
export const webhookPipeline = <E extends VerifiedEvent, R, D extends WebhookDb>(
  pipeline: WebhookPipeline<E, R, D>,
): Handler => {
  const { provider } = pipeline
  const mapError = pipeline.providerError ?? ((error: unknown) => error)
  const unknownCode = pipeline.unknownCode ?? (() => 'ERROR')

  const failureText = (error: unknown): string => {
    const code = error instanceof ApiError ? error.code : (sqlStateOf(error) ?? unknownCode(error))
    const message = error instanceof Error ? error.message : String(error)
    return `${code}: ${message}`
  }

  // Best effort, in its own transaction: the apply rolled back, the event stays unprocessed.
  const recordFailure = async (db: D, event: E, error: unknown) => {
    try {
      await db`
        select tollgate_private.record_webhook_failure(
          ${provider}, ${event.id}, ${event.type}, ${event.raw}::text::jsonb,
          ${failureText(error)})`
    } catch (recordError) {
      log.error(`${provider}_webhook_failure_not_recorded`, {
        event_id: event.id,
        error: recordError,
      })
    }
  }

  /** What a failure after verification becomes: 400 for a bad event, else 5xx so it is retried. */
  const failureOf = async (db: D, event: E, error: unknown): Promise<unknown> => {
    const state = sqlStateOf(error)
    if ((error instanceof ApiError && error.code === 'BADEV') || state === 'BADEV') return error
    if (state !== null && BAD_PAYLOAD_STATES.has(state)) {
      return new ApiError('BADEV', { details: { sqlstate: state }, cause: error })
    }
    const cause = mapError(error)
    await recordFailure(db, event, cause)
    let status = 500
    if (cause instanceof ApiError) status = cause.status
    else if (state !== null) status = statusForCode(state)
    if (status >= 500) return cause
    // A refusal we cannot resolve now (a constraint, a conflict) is still ours to fix: retry.
    return new ApiError('INTRN', { details: { code: state }, cause })
  }

  return async (c) => {
    const env = envOf(c.env)
    let opened: D | undefined
    const dbOf = (): D => {
      opened ??= pipeline.db(env)
      return opened
    }
    const event = await pipeline.verify(c, env, dbOf)
    const db = dbOf()
    const step: WebhookStep<E, D> = { env, db, event }
    try {
      const fetched = pipeline.fetch ? await pipeline.fetch(step) : null
      let result = await pipeline.apply(step, fetched)
      const refetched = pipeline.refetch ? await pipeline.refetch(step, result) : null
      if (refetched !== null) result = await pipeline.apply(step, refetched)
      log.info(`${provider}_webhook`, {
        event_id: event.id,
        type: event.type,
        ...pipeline.outcome(event, result),
      })
      if (pipeline.after) await pipeline.after(step, result)
      return c.json({ received: true })
    } catch (error) {
      throw await failureOf(db, event, error)
    }
  }
}
