import type { PolicyFigures } from './figures/entitlements.ts'
import type { Figure } from './measure.ts'
import type { PeerFigures, PeerPhase } from './peer.ts'
import type { HotUserFigure, RatioFigure, Target } from './types.ts'
import type { WebhookFigures } from './webhooks.ts'

/** Events per second the issue asks of the webhook (first deliveries and duplicates alike). */
const WEBHOOK_TARGET = 1500

// First deliveries at each concurrency, then the duplicates: "717 / 836; dup 1447 / 1359".
const webhookValue = (webhooks: WebhookFigures): string => {
  const rates = (replay: 'first' | 'duplicate') =>
    webhooks.rows
      .filter((row) => row.replay === replay)
      .map((row) => row.eventsPerSecond.toFixed(0))
      .join(' / ')
  return `${rates('first')}; dup ${rates('duplicate')}`
}

/**
 * The targets, each with this run's value and whether it was met. Issue 17 measures
 * consume, the hot user and reads against the ceilings in PostgREST's framing (the framing is a
 * cost every PostgREST call pays); the bare-ceiling ratios stay in the report.
 */
export const targetsOf = (figures: {
  consume: RatioFigure[]
  framedAt8: number
  ceilingFramed: Figure
  ceilingFramed32: Figure
  hotUser: HotUserFigure
  hotAllowedPhase: number | null
  reads: Figure[]
  readCeiling: Figure[]
  readRowsLimit: Figure[]
  webhooks: WebhookFigures
  policies: PolicyFigures
}): Target[] => {
  const { consume, framedAt8, hotUser, hotAllowedPhase, reads, readCeiling, readRowsLimit, webhooks, policies } =
    figures
  // What a framed one-row write does from 8 to 32 connections on this machine, same turns.
  const framedScaling = figures.ceilingFramed32.tps / figures.ceilingFramed.tps
  const at8 = consume.find((row) => row.connections === 8)
  const at32 = consume.find((row) => row.connections === 32)
  const read8 = reads.find((row) => row.connections === 8)
  const ceiling8 = readCeiling.find((row) => row.connections === 8)
  const scaling = at8 && at32 ? at32.tps / at8.tps : Number.NaN
  const p99Ratio = read8 && ceiling8 ? read8.p99Ms / ceiling8.p99Ms : Number.NaN
  // The limit beside it: the view's rows from a plain table, no rule (what no Tollgate change cuts).
  const limit8 = readRowsLimit.find((row) => row.connections === 8)
  const limitRatio = limit8 && ceiling8 ? limit8.p99Ms / ceiling8.p99Ms : Number.NaN
  return [
    {
      name: 'consume_usage / framed ceiling @8',
      target: '>= 0.75',
      value: Number.isFinite(framedAt8) ? framedAt8.toFixed(2) : 'n/a',
      met: framedAt8 >= 0.75,
    },
    {
      name: 'consume_usage tps @32 / @8',
      target: '>= 1.0',
      value: Number.isFinite(scaling)
        ? `${scaling.toFixed(2)} (${at32?.tps.toFixed(0)} / ${at8?.tps.toFixed(0)}; framed ceiling ${framedScaling.toFixed(2)})`
        : 'n/a',
      met: scaling >= 1,
    },
    {
      name: 'hot user / framed hot row @32, while the quota lasts',
      target: '>= 0.5',
      value:
        hotAllowedPhase === null
          ? 'n/a'
          : `${hotAllowedPhase.toFixed(2)} (p99 ${hotUser.p99Ms.toFixed(1)} ms)`,
      met: hotAllowedPhase !== null && hotAllowedPhase >= 0.5,
    },
    {
      name: 'hot user overdraw',
      target: '= 0',
      value: String(hotUser.overdraw),
      met: hotUser.overdraw === 0,
    },
    {
      name: 'usage view p99 / read ceiling p99 @8',
      target: '<= 1.1',
      value: Number.isFinite(p99Ratio)
        ? `${p99Ratio.toFixed(2)} (${read8?.p99Ms.toFixed(2)} / ${ceiling8?.p99Ms.toFixed(2)} ms)` +
          (Number.isFinite(limitRatio)
            ? `; the same rows from a plain table: ${limitRatio.toFixed(2)}`
            : '')
        : 'n/a',
      met: p99Ratio <= 1.1,
    },
    {
      name: 'webhooks events/s (@8, @32; dup)',
      target: '>= 1,500',
      value: webhookValue(webhooks),
      met: webhooks.rows.every((row) => row.eventsPerSecond >= WEBHOOK_TARGET),
    },
    {
      name: 'has_feature policy / policy true, 100,000-row select',
      target: '>= 0.90',
      value: policies.ratio.toFixed(2),
      met: policies.ratio >= 0.9,
    },
  ]
}

// Issue 17: ours / stripe-sync-engine, events per second on the same stream in the same run.
const PEER_TARGETS: { phase: PeerPhase; name: string; min: number }[] = [
  { phase: 'first8', name: 'webhooks / peer, first deliveries @8', min: 1.0 },
  { phase: 'first32', name: 'webhooks / peer, first deliveries @32', min: 1.0 },
  { phase: 'dup8', name: 'webhooks / peer, duplicates @8', min: 1.2 },
  { phase: 'dup32', name: 'webhooks / peer, duplicates @32', min: 1.2 },
]

/** The peer figure's targets (not measured: null, e.g. in quick mode). */
export const peerTargetsOf = (peer: PeerFigures | null): Target[] =>
  PEER_TARGETS.map(({ phase, name, min }) => {
    const ratio = peer?.[phase]
    return {
      name,
      target: `>= ${min.toFixed(1)}`,
      value: ratio
        ? `${ratio.eventsRatio.toFixed(2)} (${ratio.ours.toFixed(0)} / ${ratio.peer.toFixed(0)})`
        : '-',
      met: ratio ? ratio.eventsRatio >= min : null,
    }
  })
