import { toFigure, type Figure } from '../measure.ts'
import type { Part, Session } from '../session.ts'
import type { RatioFigure } from '../types.ts'
import { ceilingCall, consumeCall, framedCeilingCall, pick } from '../workloads.ts'

const LEVELS = [1, 8, 32] as const
const FRAMED_CONNECTIONS = 8
// Issue 17 asks consume_usage to scale from 8 to 32 connections: the framed ceiling at 32 is what
// any framed write does on this machine at that concurrency, measured in the same turns.
const FRAMED_SCALING_CONNECTIONS = 32

/**
 * Figures 1 and 2 on random keys and users, with the ceiling in the RPC framing at 8 and, at 8,
 * consume_usage for users past their quota who draw credits.
 */
export type Throughput = {
  ceiling: Figure[]
  consume: RatioFigure[]
  ceilingFramed: Figure
  /** The same at 32 connections. */
  ceilingFramed32: Figure
  consumeCredits: RatioFigure
}

const cpuRatio = (base: Figure, ours: Figure, withClient: boolean): number | null => {
  if (base.serverCpuUs === null || ours.serverCpuUs === null) return null
  if (base.clientCpuUs === null || ours.clientCpuUs === null) return null
  const baseUs = base.serverCpuUs + (withClient ? base.clientCpuUs : 0)
  const oursUs = ours.serverCpuUs + (withClient ? ours.clientCpuUs : 0)
  return oursUs === 0 ? null : baseUs / oursUs
}

/**
 * 1 and 2: ceiling and consume_usage (and at 8 and 32 the ceiling inside the RPC framing) at 1, 8
 * and 32 connections, measured in turns of measureMs / rounds each, so a burst of load from
 * elsewhere on the machine hits all of them alike.
 */
export const measureThroughput = async (session: Session): Promise<Throughput> => {
  const { database } = session
  const ceiling: Figure[] = []
  const consume: RatioFigure[] = []
  let ceilingFramed: Figure | undefined
  let ceilingFramed32: Figure | undefined
  let consumeCredits: RatioFigure | undefined
  for (const connections of LEVELS) {
    const parts: Part[] = [
      {
        label: 'ceiling (random keys)',
        url: database.ownerUrl,
        make: (connection) => ceilingCall(connection, null),
      },
      {
        label: 'consume_usage (random users)',
        url: database.apiUrl,
        make: (connection) => consumeCall(connection, () => pick(database.users)),
      },
    ]
    if (connections === FRAMED_CONNECTIONS || connections === FRAMED_SCALING_CONNECTIONS) {
      parts.push({
        label: 'ceiling inside the RPC framing',
        url: database.apiUrl,
        make: (connection) => framedCeilingCall(connection, () => pick(database.users), null),
      })
    }
    if (connections === FRAMED_CONNECTIONS) {
      parts.push({
        label: 'consume_usage drawing credits (random users past their quota)',
        url: database.apiUrl,
        make: (connection) => consumeCall(connection, () => pick(database.creditUsers)),
      })
    }
    const [base, ours, framed, credits] = (await session.inTurns(parts, connections)).map(toFigure)
    if (!base || !ours) throw new Error('a figure is missing')
    ceiling.push(base)
    consume.push({
      ...ours,
      ratio: ours.tps / base.tps,
      cpuRatio: cpuRatio(base, ours, true),
      serverCpuRatio: cpuRatio(base, ours, false),
    })
    if (framed && connections === FRAMED_CONNECTIONS) ceilingFramed = framed
    if (framed && connections === FRAMED_SCALING_CONNECTIONS) ceilingFramed32 = framed
    if (credits) {
      consumeCredits = {
        ...credits,
        ratio: credits.tps / base.tps,
        cpuRatio: cpuRatio(base, credits, true),
        serverCpuRatio: cpuRatio(base, credits, false),
      }
      session.check(
        `consume_usage drawing credits @${connections}: every call allowed`,
        credits.refused === 0,
        `${credits.refused} of ${credits.calls} refused`,
      )
    }
    session.check(
      `consume_usage @${connections}: no refusal under the quota`,
      ours.refused === 0,
      `${ours.refused} of ${ours.calls} refused`,
    )
  }

  if (!ceilingFramed || !ceilingFramed32) throw new Error('the framed ceiling was not measured')
  if (!consumeCredits) throw new Error('the credit-drawing figure was not measured')
  return { ceiling, consume, ceilingFramed, ceilingFramed32, consumeCredits }
}
