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
import { openSession, phaseRatio, type Context } from './session.ts'
import { targetsOf } from './targets.ts'
import type { BenchResult } from './types.ts'
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

/** Runs every database figure of issue 5 on a fresh durable cluster and returns the results. */
export const runBench = async (options: BenchOptions = {}): Promise<BenchResult> => {
  const quick = options.quick ?? false
  const log = options.log ?? (() => {})
  const warmupMs = quick ? 500 : 2000
  const measureMs = quick ? 1500 : 10_000
  const loadAverageBefore = loadavg()
  const database = await createBenchDatabase(log)
  try {
    if (options.afterSetup) await options.afterSetup(database)
    const rounds = quick ? 1 : 5
    return await measureAll(database, {
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
}

// The figures in the order they are measured (figures/*.ts), then the whole-database checks,
// the server's facts and the targets. Each figure adds its own checks to the session.
const measureAll = async (database: BenchDatabase, context: Context): Promise<BenchResult> => {
  const session = openSession(database, context)
  const { ceiling, consume, ceilingFramed, consumeCredits } = await measureThroughput(session)
  const { hotQuota, ceilingHot, ceilingFramedHot, hotUser } = await measureHot(session)
  const naive = await measureNaive(session)
  const { reads, readCeiling } = await measureReads(session)
  const webhooks = await measureWebhooks(session)
  const policies = await measurePolicies(session)
  const metering = await measureMetering(session)
  await checkInvariants(session)
  const postgres = await postgresFacts(session)
  await session.end()

  const at8 = consume.find((row) => row.connections === 8)
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
    consume,
    consumeCredits,
    ceilingHot,
    ceilingFramedHot,
    framedRatios: {
      at8: at8 ? at8.tps / ceilingFramed.tps : Number.NaN,
      hot: hotUser.tps / ceilingFramedHot.tps,
      hotAllowedPhase: phaseRatio(hotUser.allowedPhaseTps, ceilingFramedHot.allowedPhaseTps),
    },
    hotUser,
    naive,
    reads,
    readCeiling,
    webhooks,
    policies,
    metering,
    targets: targetsOf({ consume, hotUser, reads, webhooks, policies }),
    checks,
    problems,
    warnings,
    ok: problems.length === 0,
  }
}
