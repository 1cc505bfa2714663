import type { PolicyFigures } from './figures/entitlements.ts'
import type { MeteringFigures } from './figures/metering.ts'
import type { Figure } from './measure.ts'
import type { PeerFigures } from './peer.ts'
import type { WebhookFigures } from './webhooks.ts'
import type { STATEMENTS } from './workloads.ts'

/** A figure with the ratio to the ceiling measured at the same concurrency in the same run. */
export type RatioFigure = Figure & {
  /** tps / ceiling tps. */
  ratio: number
  /** Ceiling CPU per call / ours, server and client: the tps ratio of a CPU-bound machine. */
  cpuRatio: number | null
  /** The same, Postgres processes only. */
  serverCpuRatio: number | null
}

/** A window on one hot row or user whose quota is crossed during the window. */
export type HotFigure = Figure & {
  quota: number
  used: number
  /** used - quota when positive (must be 0). */
  overdraw: number
  /** Allowed answers the clients received in the window (must equal used). */
  allowedAnswers: number
  /** Sum of the ledger rows written in the window (ours only; must equal used). */
  ledger: number | null
}

/** The hot user next to the hot-row ceiling. */
export type HotUserFigure = HotFigure & {
  ratio: number
  /** Ratio of the rates while the quota lasted (counting calls). */
  allowedPhaseRatio: number | null
  /** Ratio of the rates once both refuse. */
  refusedPhaseRatio: number | null
}

/** The naive baseline and ours side by side on one user with quota 1,000. */
export type NaiveRow = {
  connections: number
  naive: Figure & { sum: number; overdraw: number }
  ours: HotFigure
}

/** A target of the issue and whether this run met it. */
export type Target = { name: string; target: string; value: string; met: boolean | null }

/** A correctness check; a failed one fails the run. */
export type Check = { name: string; ok: boolean; detail: string }

/** Everything one run measured. */
export type BenchResult = {
  mode: 'full' | 'quick'
  date: string
  machine: {
    cores: number
    cpu: string
    memoryGb: number
    kernel: string
    node: string
    loadAverageBefore: number[]
    loadAverageAfter: number[]
  }
  postgres: { version: string; settings: Record<string, string> }
  method: {
    warmupSeconds: number
    measureSeconds: number
    /** Turns in which the random-key figures of one concurrency share their window. */
    rounds: number
    poolUsers: number
    ceilingRows: number
    hotQuota: number
    statements: typeof STATEMENTS
  }
  setupSeconds: number
  ceiling: Figure[]
  /** The ceiling's update inside the RPC framing, at 8 connections. */
  ceilingFramed: Figure
  /** The same at 32 connections: the scaling a framed write gets on this machine (issue 17). */
  ceilingFramed32: Figure
  consume: RatioFigure[]
  /** consume_usage at 8 for users past their quota who hold credits: every call draws credits. */
  consumeCredits: RatioFigure
  ceilingHot: HotFigure
  /** The hot-row variant inside the RPC framing, same quota. */
  ceilingFramedHot: Figure
  /** Ours against the ceiling inside the same framing (context for the targets, not targets). */
  framedRatios: { at8: number; at32: number; hot: number; hotAllowedPhase: number | null }
  hotUser: HotUserFigure
  naive: NaiveRow[]
  reads: Figure[]
  /** One row by key in the same read framing: what any PostgREST read costs at least (context). */
  readCeiling: Figure[]
  /**
   * The view's number of rows (one per metric of the free plan) by key from a plain table, same
   * framing: what the view's answer costs without any rule (the limit of the reads target).
   */
  readRowsLimit: Figure[]
  webhooks: WebhookFigures
  /** An app table read whole under a has_feature policy and under `true` (issue 14). */
  policies: PolicyFigures
  /** One consume through the metering function over HTTP against the RPC, @8 and @32 (issue 16). */
  metering: MeteringFigures
  /** Ours beside stripe-sync-engine on the same webhook stream (issue 17); null in quick mode. */
  peer: PeerFigures | null
  targets: Target[]
  checks: Check[]
  /** Failed checks and warnings; a failed check makes `ok` false. */
  problems: string[]
  warnings: string[]
  ok: boolean
}
