import { describe, expect, it } from 'vitest'
import {
  BACKOFF_BASE_SECONDS,
  BACKOFF_CAP_SECONDS,
  backoffCeiling,
  MAX_EMAIL_ATTEMPTS,
  nextAttemptDelay,
} from '../../packages/providers/resend/src/index.ts'

describe('nextAttemptDelay', () => {
  it('stays between 0 and the capped exponential ceiling (30 s, 60 s, 120 s … 6 h)', () => {
    expect([1, 2, 3, 4].map(backoffCeiling)).toEqual([30, 60, 120, 240])
    expect(BACKOFF_BASE_SECONDS).toBe(30)
    expect(BACKOFF_CAP_SECONDS).toBe(6 * 3600)
    for (let attempts = 1; attempts <= 30; attempts += 1) {
      const ceiling = Math.min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempts - 1))
      expect(nextAttemptDelay(attempts, undefined, () => 0)).toBe(0)
      expect(nextAttemptDelay(attempts, undefined, () => 0.999999)).toBe(ceiling - 1)
      for (let i = 0; i < 50; i += 1) {
        const delay = nextAttemptDelay(attempts)
        expect(delay).toBeGreaterThanOrEqual(0)
        expect(delay).toBeLessThan(ceiling)
        expect(Number.isInteger(delay)).toBe(true)
      }
    }
  })

  it('has a ceiling that never falls and reaches the cap', () => {
    const ceilings = Array.from({ length: 40 }, (_, i) => backoffCeiling(i + 1))
    for (let i = 1; i < ceilings.length; i += 1) {
      expect(ceilings[i]).toBeGreaterThanOrEqual(ceilings[i - 1] ?? 0)
    }
    expect(ceilings.at(-1)).toBe(BACKOFF_CAP_SECONDS)
    expect(backoffCeiling(1_000)).toBe(BACKOFF_CAP_SECONDS)
  })

  it('jitters: many draws spread over the range', () => {
    const draws = new Set(Array.from({ length: 200 }, () => nextAttemptDelay(8)))
    expect(draws.size).toBeGreaterThan(50)
  })

  it('waits the Retry-After when it is longer than the jittered delay, never less', () => {
    expect(nextAttemptDelay(1, 120, () => 0.5)).toBe(120)
    expect(nextAttemptDelay(1, 2.2, () => 0)).toBe(3)
    // A shorter Retry-After does not shorten the backoff.
    expect(nextAttemptDelay(10, 5, () => 0.5)).toBe(Math.floor(0.5 * backoffCeiling(10)))
    // Even a Retry-After is capped.
    expect(nextAttemptDelay(1, 10 * 24 * 3600, () => 0)).toBe(BACKOFF_CAP_SECONDS)
  })

  it('retries a lost answer within 24 h of the first attempt, while the Idempotency-Key holds', () => {
    let worst = 0
    for (let attempts = 1; attempts < MAX_EMAIL_ATTEMPTS; attempts += 1) {
      worst += backoffCeiling(attempts)
    }
    expect(MAX_EMAIL_ATTEMPTS).toBeGreaterThanOrEqual(5)
    expect(worst).toBeLessThan(24 * 3600)
  })
})
