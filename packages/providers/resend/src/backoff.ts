// Retry timing of the email outbox. Full jitter (a uniform draw between 0 and the exponential
// ceiling) spreads the retries of many emails that failed together, so a provider outage does not
// end in a thundering herd when it recovers.

/** Ceiling of the first retry, in seconds. */
export const BACKOFF_BASE_SECONDS = 30

/** No retry waits longer than this, in seconds (6 h). */
export const BACKOFF_CAP_SECONDS = 6 * 60 * 60

/**
 * Attempts after which an email is dead. With the ceilings 30 s, 1, 2, 4, 8, 16, 32 min between
 * them, the last attempt comes at most about 1 h after the first, well inside the 24 h for which
 * Resend honours an Idempotency-Key, so a retry after a lost answer cannot send a duplicate. (Only a
 * provider's own long Retry-After stretches this, and its 429 or 503 means nothing was sent.)
 */
export const MAX_EMAIL_ATTEMPTS = 8

/** The exponential ceiling of the wait after `attempts` failed attempts, in seconds. */
export const backoffCeiling = (attempts: number): number =>
  Math.min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** Math.max(0, Math.floor(attempts) - 1))

/**
 * Seconds to wait before the next attempt after `attempts` failed ones: full jitter under the
 * capped exponential ceiling, or the provider's Retry-After (capped too) when that is longer.
 */
export const nextAttemptDelay = (
  attempts: number,
  retryAfterSeconds?: number,
  random: () => number = Math.random,
): number => {
  const jittered = Math.floor(random() * backoffCeiling(attempts))
  const asked = retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds)
    ? Math.min(BACKOFF_CAP_SECONDS, Math.max(0, Math.ceil(retryAfterSeconds)))
    : 0
  return Math.max(jittered, asked)
}
