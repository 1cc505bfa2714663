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

/** The targets, each with this run's value and whether it was met. */
export const targetsOf = (figures: {
  consume: RatioFigure[]
  hotUser: HotUserFigure
  reads: Figure[]
  webhooks: WebhookFigures
  policies: PolicyFigures
}): Target[] => {
  const { consume, hotUser, reads, webhooks, policies } = figures
  const at8 = consume.find((row) => row.connections === 8)
  const read8 = reads.find((row) => row.connections === 8)
  return [
    {
      name: 'consume_usage / ceiling @8',
      target: '>= 0.75',
      value: at8 ? at8.ratio.toFixed(2) : 'n/a',
      met: at8 ? at8.ratio >= 0.75 : false,
    },
    {
      name: 'hot user / ceiling hot row @32',
      target: '>= 0.8',
      value: hotUser.ratio.toFixed(2),
      met: hotUser.ratio >= 0.8,
    },
    {
      name: 'hot user overdraw',
      target: '= 0',
      value: String(hotUser.overdraw),
      met: hotUser.overdraw === 0,
    },
    {
      name: 'usage view p99 @8',
      target: '<= 1 ms',
      value: read8 ? `${read8.p99Ms.toFixed(2)} ms` : 'n/a',
      met: read8 ? read8.p99Ms <= 1 : false,
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
