// The notifications worker's loop: claim due emails (tollgate_private.claim_emails, for update skip
// locked, committed before anything is sent), render each, send it through Resend with its one
// Idempotency-Key, and record each outcome (tollgate_private.finish_email, which only the current
// claim can do). A crash between sending and recording leaves the claim to lapse: the email is
// claimed again and sent with the same key, which Resend answers with the first id, sending nothing.
import { log } from '../../core/src/log.ts'
import type { Db } from '../../db/src/client.ts'
import {
  MAX_EMAIL_ATTEMPTS,
  nextAttemptDelay,
  sendEmail,
  type SendEmailResult,
} from '../../providers/resend/src/index.ts'
import { isNotificationKind } from './kinds.ts'
import { renderEmail } from './templates.ts'

/** What the worker needs besides the database. */
export type DispatchConfig = {
  /** Resend's key; without it each email is logged instead of sent (local development). */
  apiKey: string | undefined
  apiBase?: string | undefined
  from: string
  appUrl: string
  /** Emails claimed per round trip (default 10) and rounds per call (default 10). */
  batchSize?: number
  maxBatches?: number
  /** How long a claim holds before another worker may take the email (default 120 s). */
  leaseSeconds?: number
}

/** What one dispatch did: sent now, failed now (retried later or given up), still due. */
export type DispatchReport = { sent: number; failed: number; pending: number }

type Claimed = {
  notification_id: string
  attempt: number
  idempotency_key: string
  kind: string
  email: string | null
  title: string
  body: string
  data: Record<string, unknown>
}

type Outcome =
  | { outcome: 'sent'; messageId: string }
  | { outcome: 'retry'; error: string; retryIn: number }
  | { outcome: 'dead'; error: string }

/** The outcome to record for one attempt's result. */
export const outcomeOf = (attempt: number, result: SendEmailResult): Outcome => {
  if (result.ok) return { outcome: 'sent', messageId: result.messageId }
  const error = result.status === undefined ? result.error : `${result.status}: ${result.error}`
  if (!result.retry) return { outcome: 'dead', error }
  if (attempt >= MAX_EMAIL_ATTEMPTS) {
    return { outcome: 'dead', error: `${error} (gave up after ${attempt} attempts)` }
  }
  return { outcome: 'retry', error, retryIn: nextAttemptDelay(attempt, result.retryAfterSeconds) }
}

const deliver = async (email: Claimed, config: DispatchConfig): Promise<Outcome> => {
  if (email.email === null || email.email === '') {
    return { outcome: 'dead', error: 'the user has no email address' }
  }
  if (!isNotificationKind(email.kind)) return { outcome: 'dead', error: `unknown kind ${email.kind}` }
  let rendered: { subject: string; text: string; html: string }
  try {
    rendered = renderEmail(email.kind, email.data, { appUrl: config.appUrl })
  } catch (error) {
    return { outcome: 'dead', error: `cannot render: ${(error as Error).message}` }
  }
  if (!config.apiKey) {
    log.info('email_logged', {
      notification_id: email.notification_id,
      to: email.email,
      subject: rendered.subject,
      text: rendered.text,
    })
    return { outcome: 'sent', messageId: 'logged' }
  }
  return outcomeOf(
    email.attempt,
    await sendEmail({
      apiKey: config.apiKey,
      apiBase: config.apiBase,
      idempotencyKey: email.idempotency_key,
      from: config.from,
      to: email.email,
      subject: rendered.subject,
      text: rendered.text,
      html: rendered.html,
      tags: [{ name: 'kind', value: email.kind }],
    }),
  )
}

/** Claims, sends and records due emails until none is due or `maxBatches` rounds have run. */
export const dispatchEmails = async (db: Db, config: DispatchConfig): Promise<DispatchReport> => {
  const batchSize = config.batchSize ?? 10
  const report: DispatchReport = { sent: 0, failed: 0, pending: 0 }
  for (let round = 0; round < (config.maxBatches ?? 10); round++) {
    const claimed = await db<Claimed[]>`
      select * from tollgate_private.claim_emails(${batchSize}, ${config.leaseSeconds ?? 120},
        ${MAX_EMAIL_ATTEMPTS})`
    if (claimed.length === 0) break
    // One email at a time keeps a batch inside its lease and Resend's rate limit.
    for (const email of claimed) {
      const result = await deliver(email, config)
      await db`
        select tollgate_private.finish_email(${email.notification_id}, ${email.attempt},
          ${result.outcome}, ${result.outcome === 'sent' ? result.messageId : null},
          ${result.outcome === 'sent' ? null : result.error},
          ${result.outcome === 'retry' ? result.retryIn : null})`
      if (result.outcome === 'sent') report.sent++
      else report.failed++
      if (result.outcome !== 'sent') {
        log.warn('email_not_sent', { notification_id: email.notification_id, ...result })
      }
    }
    if (claimed.length < batchSize) break
  }
  const [due] = await db<{ n: number }[]>`
    select count(*)::int as n from tollgate_private.email_outbox
    where state in ('queued', 'failed') and next_attempt_at <= now()`
  report.pending = due?.n ?? 0
  return report
}
