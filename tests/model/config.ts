/**
 * Which action kinds the model generates and which invariants it checks. The defaults are all of
 * them; `MODEL_ENABLE=all` (what `npm run fuzz` sets) turns on
 * everything, `MODEL_ACTIONS` / `MODEL_INVARIANTS` (comma-separated names) pick exact lists.
 * Nothing here weakens an invariant: a rule is either checked in full or not at all.
 */

/** Every action kind the model knows. */
export const ACTION_KINDS = [
  // user actions
  'checkout_stripe',
  'checkout_razorpay',
  'checkout_with_coupon',
  'checkout_again',
  'checkout_trial',
  'checkout_free',
  'pay_stripe',
  'pay_razorpay',
  'verify_payment',
  'change_plan',
  'cancel',
  'resume',
  'consume',
  'gauge',
  'grant_credits',
  'revoke_credits',
  'admin_reset_usage',
  'admin_edit_limit',
  'admin_set_grace',
  'delete_account',
  'make_api_key',
  'revoke_api_key',
  'metered_consume',
  // provider behaviour
  'portal_cancel',
  'end_trial',
  'deliver',
  'deliver_duplicate',
  'deliver_all',
  'renew_paid',
  'renew_failed',
  // time
  'advance_time',
  'maintenance',
] as const

/** Every invariant the model checks after each step. */
export const INVARIANTS = [
  'grantedPlanEqualsBilledPlan',
  'atMostOneBilledSubscription',
  'consumptionWithinLargestQuotaOfThePeriod',
  'usedNeverDecreasesInsideAPeriod',
  'couponUsesWithinMaxUses',
  'couponOncePerAccount',
  'heldOnlyWhileAnotherPaidPlanRuns',
  'quotaPeriodsFollowPaidPeriods',
  'counterEqualsItsLedger',
  'quotaLinesAreNotified',
  'creditsNeverOverdrawn',
  'refusedConsumeChangesNothing',
  'consumeNeverPassesQuota',
  'apiKeysCountLiveKeys',
  'revokedKeysNeverWork',
  'requestsWithinTheHourlyLimit',
  'retriedAdminGrantGrantsOnce',
  'storedUsageIsTheRule',
  'deletedUsersLeaveOnlyTheMoneyTrail',
] as const

export type ActionKind = (typeof ACTION_KINDS)[number]
export type InvariantName = (typeof INVARIANTS)[number]

/**
 * Enabled by default: everything. Before the fixes of issue 11 landed, each of these kinds found a
 * defect (tests/model/README.md has the counterexamples): checkout_again 3 (M-2), 4 (M-1 a), S-1;
 * change_plan 1 (H-2), 2 (H-1); checkout_razorpay / pay_razorpay with advance_time S-3;
 * renew_failed S-2; portal_cancel S-4; end_trial S-5; checkout_free the S-6 window mixing.
 */
export const DEFAULT_ACTIONS: readonly ActionKind[] = ACTION_KINDS

export const DEFAULT_INVARIANTS: readonly InvariantName[] = INVARIANTS

const listFrom = <T extends string>(
  raw: string | undefined,
  known: readonly T[],
  fallback: readonly T[],
): ReadonlySet<T> => {
  if (raw === undefined || raw.trim() === '') {
    return new Set(process.env.MODEL_ENABLE === 'all' ? known : fallback)
  }
  const names = raw.split(',').map((name) => name.trim()).filter((name) => name !== '')
  for (const name of names) {
    if (!(known as readonly string[]).includes(name)) {
      throw new Error(`unknown name ${name}; known: ${known.join(', ')}`)
    }
  }
  return new Set(names as T[])
}

/** The model's settings for this process (read once from the environment). */
export type ModelConfig = {
  actions: ReadonlySet<ActionKind>
  invariants: ReadonlySet<InvariantName>
  /** fast-check runs; `npm test` keeps it small. */
  runs: number
  /** At most this many steps a run. */
  maxSteps: number
  /** Fixed in `npm test`; `npm run fuzz` draws one (FUZZ_SEED=random) or takes FUZZ_SEED. */
  seed: number
  /** True under `npm run fuzz`: longer, random seed, everything on unless told otherwise. */
  fuzz: boolean
}

const intFrom = (raw: string | undefined, fallback: number): number => {
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${raw}`)
  return value
}

/** The configuration of this process. */
export const modelConfig = (): ModelConfig => {
  const fuzz = process.env.FUZZ === '1'
  const seedRaw = process.env.FUZZ_SEED
  const seed =
    seedRaw === undefined || seedRaw === '' || seedRaw === 'random'
      ? fuzz
        ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0
        : 20261205
      : intFrom(seedRaw, 20261205)
  return {
    actions: listFrom(process.env.MODEL_ACTIONS, ACTION_KINDS, DEFAULT_ACTIONS),
    invariants: listFrom(process.env.MODEL_INVARIANTS, INVARIANTS, DEFAULT_INVARIANTS),
    runs: intFrom(process.env.FUZZ_RUNS, fuzz ? 300 : 120),
    maxSteps: intFrom(process.env.FUZZ_STEPS, fuzz ? 25 : 20),
    seed,
    fuzz,
  }
}
