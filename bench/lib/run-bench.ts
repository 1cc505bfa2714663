import { loadavg } from 'node:os'
import { CEILING_ROWS, POOL_USERS, createBenchDatabase, type BenchDatabase } from './database.ts'
import { machineFacts, postgresFacts } from './facts.ts'
import { measurePolicies } from './figures/entitlements.ts'
import { measureHot } from './figures/hot.ts'
import { measureMetering } from './figures/metering.ts'
import { measureNaive } from './figures/naive.ts'
import { measureReads } from './figures/reads.ts'
import { measureThroughput } from './figures/throughput.ts'
import { measureWebhooks } from './figures/webhooks.ts'
import { checkInvariants } from './invariants.ts'
import { peerBench, type PeerFigures } from './peer.ts'
import { openSession, phaseRatio, type Context } from './session.ts'
import { peerTargetsOf, targetsOf } from './targets.ts'
import type { BenchResult, Check, Target } from './types.ts'
import { STATEMENTS } from './workloads.ts'

export type {
  BenchResult,
  Check,
  HotFigure,
  HotUserFigure,
  NaiveRow,
  RatioFigure,
  Target,
} from './types.ts'

/** Options of one benchmark run. */
export type BenchOptions = {
  /** A few seconds per figure; only correctness matters (default false). */
  quick?: boolean
  /** Progress lines (default: none). */
  log?: (line: string) => void
  /** Runs once the database is loaded, before any figure (tests break things on purpose). */
  afterSetup?: (database: BenchDatabase) => Promise<void>
}

const timingOf = (quick: boolean) => ({
  warmupMs: quick ? 500 : 2000,
  measureMs: quick ? 1500 : 10_000,
})

/**
 * Runs every database figure of issue 5 on a fresh durable cluster, then (full runs only) the
 * peer figure of issue 17 on two clusters of its own, and returns the results.
 */
export const runBench = async (options: BenchOptions = {}): Promise<BenchResult> => {
  const quick = options.quick ?? false
  const log = options.log ?? (() => {})
  const { warmupMs, measureMs } = timingOf(quick)
  const loadAverageBefore = loadavg()
  const database = await createBenchDatabase(log)
  let result: BenchResult
  try {
    if (options.afterSetup) await options.afterSetup(database)
    const rounds = quick ? 1 : 5
    result = await measureAll(database, {
      quick,
      rounds,
      log,
      warmupMs,
      measureMs,
      loadAverageBefore,
    })
  } finally {
    await database.stop()
  }
  // Its setup alone takes longer than --quick may; `--only peer --quick` runs its checks.
  if (quick) return result
  // After the main cluster is stopped: only the peer figure's two clusters run.
  const peer = await peerBench({ quick, warmupMs, measureMs, log })
  const checks = peerChecks(peer)
  const problems = checks.filter((check) => !check.ok).map((c) => `${c.name}: ${c.detail}`)
  return {
    ...result,
    machine: machineFacts(loadAverageBefore),
    peer,
    targets: [...result.targets.filter((t) => !isPeerTarget(t)), ...peerTargetsOf(peer)],
    checks: [...result.checks, ...checks],
    problems: [...result.problems, ...problems],
    ok: result.ok && problems.length === 0,
  }
}

const isPeerTarget = (target: Target): boolean =>
  peerTargetsOf(null).some((peer) => peer.name === target.name)

/** The peer figure's correctness checks, one per system. */
export const peerChecks = (peer: PeerFigures): Check[] => [
  {
    name: 'peer figure: ours, every event applied once, duplicates and shuffled copies end right',
    ok: peer.correct.ours,
    detail: peer.detail.ours,
  },
  {
    name: 'peer figure: stripe-sync-engine, final state per subscription as the newest event says',
    ok: peer.correct.peer,
    detail: peer.detail.peer,
  },
]

/** What `bench/run.ts --only peer` returns: the peer figure alone, with its targets and checks. */
export type PeerResult = {
  mode: 'full' | 'quick'
  date: string
  machine: BenchResult['machine']
  peer: PeerFigures
  targets: Target[]
  checks: Check[]
  ok: boolean
}

/** Runs the peer figure of issue 17 alone (its own two clusters). */
export const runPeer = async (options: BenchOptions = {}): Promise<PeerResult> => {
  const quick = options.quick ?? false
  const loadAverageBefore = loadavg()
  const peer = await peerBench({ quick, ...timingOf(quick), log: options.log })
  const checks = peerChecks(peer)
  return {
    mode: quick ? 'quick' : 'full',
    date: new Date().toISOString(),
    machine: machineFacts(loadAverageBefore),
    peer,
    targets: peerTargetsOf(quick ? null : peer),
    checks,
    ok: checks.every((check) => check.ok),
  }
}

// The figures in the order they are measured (figures/*.ts), then the whole-database checks,
// the server's facts and the targets. Each figure adds its own checks to the session.
const measureAll = async (database: BenchDatabase, context: Context): Promise<BenchResult> => {
  const session = openSession(database, context)
  const { ceiling, consume, ceilingFramed, ceilingFramed32, consumeCredits } =
    await measureThroughput(session)
  const { hotQuota, ceilingHot, ceilingFramedHot, hotUser } = await measureHot(session)
  const naive = await measureNaive(session)
  const { reads, readCeiling, readRowsLimit } = await measureReads(session)
  const webhooks = await measureWebhooks(session)
  const policies = await measurePolicies(session)
  const metering = await measureMetering(session)
  await checkInvariants(session)
  const postgres = await postgresFacts(session)
  await session.end()

  const at8 = consume.find((row) => row.connections === 8)
  const at32 = consume.find((row) => row.connections === 32)
  const framedRatios = {
    at8: at8 ? at8.tps / ceilingFramed.tps : Number.NaN,
    at32: at32 ? at32.tps / ceilingFramed32.tps : Number.NaN,
    hot: hotUser.tps / ceilingFramedHot.tps,
    hotAllowedPhase: phaseRatio(hotUser.allowedPhaseTps, ceilingFramedHot.allowedPhaseTps),
  }
  const { checks, problems, warnings } = session
  return {
    mode: context.quick ? 'quick' : 'full',
    date: new Date().toISOString(),
    machine: machineFacts(context.loadAverageBefore),
    postgres,
    method: {
      warmupSeconds: context.warmupMs / 1000,
      measureSeconds: context.measureMs / 1000,
      rounds: context.rounds,
      poolUsers: POOL_USERS,
      ceilingRows: CEILING_ROWS,
      hotQuota,
      statements: STATEMENTS,
    },
    setupSeconds: database.setupSeconds,
    ceiling,
    ceilingFramed,
    ceilingFramed32,
    consume,
    consumeCredits,
    ceilingHot,
    ceilingFramedHot,
    framedRatios,
    hotUser,
    naive,
    reads,
    readCeiling,
    readRowsLimit,
    webhooks,
    policies,
    metering,
    peer: null,
    targets: [
      ...targetsOf({
        consume,
        framedAt8: framedRatios.at8,
        ceilingFramed,
        ceilingFramed32,
        hotUser,
        hotAllowedPhase: framedRatios.hotAllowedPhase,
        reads,
        readCeiling,
        readRowsLimit,
        webhooks,
        policies,
      }),
      ...peerTargetsOf(null),
    ],
    checks,
    problems,
    warnings,
    ok: problems.length === 0,
  }
}
