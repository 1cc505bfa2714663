import type Stripe from 'stripe'
import { log } from '../../../core/src/log.ts'
import type { Db } from '../../../db/src/client.ts'
import { idempotencyKey, stripeFailureOf } from './client.ts'

/** A pending row of tollgate_private.provider_actions, as due_provider_actions answers it. */
type DueAction = {
  id: string
  provider: string
  action: string
  provider_object_id: string
  attempts: number
}

/** What one run did. */
export type ProviderActionsRun = { done: number; retry: number; failed: number }

// What Stripe's answer means for the action: done (nothing left to do), failed for good (an
// operator must act) or to retry (our network, Stripe's 5xx, rate limits, a concurrent run).
const outcomeOf = (error: unknown): 'done' | 'failed' | 'retry' => {
  const failure = stripeFailureOf(error)
  if (failure === null) return 'retry'
  // Canceled already (by Stripe, the portal or an earlier run whose answer was lost): not billed.
  if (failure.code === 'resource_missing') return 'done'
  if (failure.status === null || failure.status >= 500 || failure.status === 429) return 'retry'
  // 409: the same Idempotency-Key is in flight in another run.
  if (failure.status === 409 || failure.type === 'idempotency_error') return 'retry'
  return 'failed'
}

const perform = async (stripe: Stripe, action: DueAction): Promise<void> => {
  if (action.provider !== 'stripe' || action.action !== 'cancel_subscription') {
    throw new TypeError(`unknown provider action ${action.provider}:${action.action}`)
  }
  // At once and prorated: the unused time of the superseded subscription is credited.
  await stripe.subscriptions.cancel(
    action.provider_object_id,
    { prorate: true },
    { idempotencyKey: idempotencyKey('provider-action', action.id) },
  )
}

/**
 * Makes the provider calls Tollgate's SQL queued in tollgate_private.provider_actions (e.g. cancel
 * the older of two live Stripe subscriptions), each with its own Idempotency-Key, and records each
 * outcome; never throws, so the request that runs it answers as it would without it.
 */
export const runProviderActions = async (
  db: Db,
  stripe: Stripe,
  options: { limit?: number } = {},
): Promise<ProviderActionsRun> => {
  const run: ProviderActionsRun = { done: 0, retry: 0, failed: 0 }
  try {
    const [row] = await db<{ actions: DueAction[] }[]>`
      select tollgate_private.due_provider_actions(${options.limit ?? 5}, now()) as actions`
    for (const action of row?.actions ?? []) {
      let outcome: 'done' | 'failed' | 'retry' = 'done'
      let error: unknown = null
      try {
        await perform(stripe, action)
      } catch (caught) {
        error = caught
        outcome = outcomeOf(caught)
      }
      const text = error === null ? null : error instanceof Error ? error.message : String(error)
      await db`
        select tollgate_private.finish_provider_action(${action.id}, ${outcome === 'done'}, ${text},
          ${outcome === 'failed'}, now())`
      run[outcome] += 1
      log[outcome === 'done' ? 'info' : 'warn']('provider_action', {
        id: action.id,
        action: action.action,
        object: action.provider_object_id,
        outcome,
        ...(text === null ? {} : { error: text }),
      })
    }
  } catch (error) {
    // Left pending: the next run (the next webhook or verify) tries again.
    log.error('provider_actions_not_run', { error })
  }
  return run
}
