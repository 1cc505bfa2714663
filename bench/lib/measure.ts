import type { CpuUse } from './cpu.ts'

/** One call of a workload on one connection: true when it counted (allowed), false if refused. */
export type Call = () => Promise<boolean>

/** What one phase (warm-up or measured window) of N concurrent loops did. */
export type PhaseStats = {
  connections: number
  /** Length of the window in seconds. */
  seconds: number
  /** Calls that started and finished inside the window. */
  calls: number
  /** Of those, the ones that counted. */
  allowed: number
  /** Every call the phase made, including the last one of each loop that ended after the window. */
  allCalls: number
  /** Every call of the phase that counted, the last one of each loop included (correctness). */
  allAllowed: number
  /** Seconds from the start of the window to the first refused call (null: none refused). */
  firstRefusalSeconds: number | null
  /** Calls counted in `calls` that ended at or after the first refusal. */
  callsAfterFirstRefusal: number
  /** Latency of every call counted in `calls`, in milliseconds, sorted ascending. */
  latenciesMs: Float64Array
  /** CPU used from the start of the phase until its last call ended, when measured. */
  cpu?: CpuUse
}

/** The figures of one measured window. */
export type Figure = {
  connections: number
  seconds: number
  calls: number
  tps: number
  allowed: number
  refused: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  firstRefusalSeconds: number | null
  /** Calls per second before the first refusal (the whole window when none was refused). */
  allowedPhaseTps: number
  /** From the first refusal to the end of the window: calls per second once refusing. */
  refusedPhaseTps: number | null
  /** Postgres CPU (all the cluster's processes) per call, in microseconds; null when unknown. */
  serverCpuUs: number | null
  /** CPU of the Node client per call, in microseconds; null when unknown. */
  clientCpuUs: number | null
}

const NS_PER_MS = 1_000_000

/** Runs one loop per call function for `ms` milliseconds; each awaits its call before the next. */
export const runPhase = async (calls: Call[], ms: number): Promise<PhaseStats> => {
  const latencies: number[][] = calls.map(() => [])
  const ends: number[][] = calls.map(() => [])
  let allCalls = 0
  let allAllowed = 0
  let allowed = 0
  let firstRefusal: bigint | null = null
  let failure: unknown
  const start = process.hrtime.bigint()
  const end = start + BigInt(Math.round(ms * NS_PER_MS))

  await Promise.all(
    calls.map(async (call, index) => {
      const mine = latencies[index] ?? []
      const myEnds = ends[index] ?? []
      while (failure === undefined) {
        const t0 = process.hrtime.bigint()
        if (t0 >= end) return
        let ok: boolean
        try {
          ok = await call()
        } catch (error) {
          failure ??= error
          return
        }
        const t1 = process.hrtime.bigint()
        allCalls++
        if (ok) allAllowed++
        else if (firstRefusal === null || t1 < firstRefusal) firstRefusal = t1
        if (t1 <= end) {
          mine.push(Number(t1 - t0) / NS_PER_MS)
          myEnds.push(Number(t1 - start) / NS_PER_MS)
          if (ok) allowed++
        }
      }
    }),
  )
  if (failure !== undefined) throw failure

  const flat = new Float64Array(latencies.reduce((n, list) => n + list.length, 0))
  let offset = 0
  for (const list of latencies) {
    flat.set(list, offset)
    offset += list.length
  }
  flat.sort()
  const firstRefusalMs = firstRefusal === null ? null : Number(firstRefusal - start) / NS_PER_MS
  const callsAfterFirstRefusal =
    firstRefusalMs === null
      ? 0
      : ends.reduce((n, list) => n + list.filter((end) => end >= firstRefusalMs).length, 0)
  return {
    connections: calls.length,
    seconds: ms / 1000,
    calls: flat.length,
    allowed,
    allCalls,
    allAllowed,
    firstRefusalSeconds: firstRefusalMs === null ? null : firstRefusalMs / 1000,
    callsAfterFirstRefusal,
    latenciesMs: flat,
  }
}

/** Joins the slices of one figure measured in turns with others into one window. */
export const mergePhases = (slices: PhaseStats[]): PhaseStats => {
  const first = slices[0]
  if (!first) throw new Error('no slices')
  let seconds = 0
  let firstRefusalSeconds: number | null = null
  let callsAfterFirstRefusal = 0
  for (const slice of slices) {
    if (firstRefusalSeconds !== null) {
      callsAfterFirstRefusal += slice.calls
    } else if (slice.firstRefusalSeconds !== null) {
      firstRefusalSeconds = seconds + slice.firstRefusalSeconds
      callsAfterFirstRefusal = slice.callsAfterFirstRefusal
    }
    seconds += slice.seconds
  }
  const latencies = new Float64Array(slices.reduce((n, slice) => n + slice.calls, 0))
  let offset = 0
  for (const slice of slices) {
    latencies.set(slice.latenciesMs, offset)
    offset += slice.latenciesMs.length
  }
  latencies.sort()
  const sum = (pick: (slice: PhaseStats) => number): number =>
    slices.reduce((n, slice) => n + pick(slice), 0)
  const measured = slices.every((slice) => slice.cpu !== undefined)
  const serverKnown = slices.every((slice) => slice.cpu?.serverUs != null)
  return {
    connections: first.connections,
    seconds,
    calls: sum((slice) => slice.calls),
    allowed: sum((slice) => slice.allowed),
    allCalls: sum((slice) => slice.allCalls),
    allAllowed: sum((slice) => slice.allAllowed),
    firstRefusalSeconds,
    callsAfterFirstRefusal,
    latenciesMs: latencies,
    ...(measured
      ? {
          cpu: {
            serverUs: serverKnown ? sum((slice) => slice.cpu?.serverUs ?? 0) : null,
            clientUs: sum((slice) => slice.cpu?.clientUs ?? 0),
          },
        }
      : {}),
  }
}

/** The value below which `fraction` of the sorted samples lie (nearest rank); NaN if empty. */
export const percentile = (sorted: Float64Array, fraction: number): number => {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(fraction * sorted.length)))
  return sorted[rank - 1] ?? Number.NaN
}

/** Summarises a measured window. */
export const toFigure = (stats: PhaseStats): Figure => ({
  connections: stats.connections,
  seconds: stats.seconds,
  calls: stats.calls,
  tps: stats.calls / stats.seconds,
  allowed: stats.allowed,
  refused: stats.calls - stats.allowed,
  p50Ms: percentile(stats.latenciesMs, 0.5),
  p99Ms: percentile(stats.latenciesMs, 0.99),
  maxMs: percentile(stats.latenciesMs, 1),
  firstRefusalSeconds: stats.firstRefusalSeconds,
  allowedPhaseTps:
    stats.firstRefusalSeconds === null
      ? stats.calls / stats.seconds
      : (stats.calls - stats.callsAfterFirstRefusal) / stats.firstRefusalSeconds,
  refusedPhaseTps:
    stats.firstRefusalSeconds === null || stats.firstRefusalSeconds >= stats.seconds
      ? null
      : stats.callsAfterFirstRefusal / (stats.seconds - stats.firstRefusalSeconds),
  serverCpuUs: perCall(stats, stats.cpu?.serverUs),
  clientCpuUs: perCall(stats, stats.cpu?.clientUs),
})

const perCall = (stats: PhaseStats, total: number | null | undefined): number | null =>
  total === null || total === undefined || stats.allCalls === 0 ? null : total / stats.allCalls
