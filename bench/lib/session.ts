import postgres from 'postgres'
import { cpuSince, cpuSnapshot } from './cpu.ts'
import { METRIC, type BenchDatabase, type BenchUser } from './database.ts'
import { mergePhases, runPhase, toFigure, type Call, type PhaseStats } from './measure.ts'
import type { Check, HotFigure } from './types.ts'
import { openConnections, type Connection } from './workloads.ts'

/** Timing and progress of one run, shared by every figure. */
export type Context = {
  quick: boolean
  /** Turns in which figures measured together share their window. */
  rounds: number
  log: (line: string) => void
  warmupMs: number
  measureMs: number
  loadAverageBefore: number[]
}

/** Whether a call is part of the warm-up or of the measured window. */
export type Phase = 'warmup' | 'measure'

/** Builds the call one connection repeats in a phase. */
export type MakeCall = (connection: Connection, phase: Phase) => Call

/** One figure of a group measured in turns at the same concurrency. */
export type Part = { label: string; url: string; make: MakeCall }

/** A counter of the benchmark metric with the sum of its ledger rows. */
export type Counter = { used: number; quota: number; ledger: number }

/** What every figure of one run shares: the database, two admin connections, the checks. */
export type Session = {
  database: BenchDatabase
  context: Context
  /** One connection as the cluster's superuser (checkpoints, server facts). */
  superSql: postgres.Sql
  /** One connection as the schema owner (set-up between windows, counters, invariants). */
  ownerSql: postgres.Sql
  checks: Check[]
  problems: string[]
  warnings: string[]
  /** Records a correctness check; a failed one becomes a problem. */
  check: (name: string, ok: boolean, detail: string) => void
  /** One figure: connections, checkpoint, warm-up, `between`, measured window. */
  figure: (
    label: string,
    url: string,
    connections: number,
    make: MakeCall,
    between?: (warm: PhaseStats) => Promise<void>,
  ) => Promise<PhaseStats>
  /** Several figures at one concurrency measured in `rounds` turns. */
  inTurns: (parts: Part[], connections: number) => Promise<PhaseStats[]>
  /** The benchmark metric's counter of a user and the sum of its ledger rows. */
  counterOf: (user: BenchUser) => Promise<Counter>
  /** Closes the two admin connections. */
  end: () => Promise<void>
}

/** A number from a row value (bigint columns arrive as strings); NaN when missing. */
export const num = (value: string | number | null | undefined): number =>
  Number(value ?? Number.NaN)

/** ours / base, or null when either is unknown or base is 0. */
export const phaseRatio = (ours: number | null, base: number | null): number | null =>
  ours === null || base === null || base === 0 ? null : ours / base

/** Opens the two admin connections and returns the helpers every figure uses. */
export const openSession = (database: BenchDatabase, context: Context): Session => {
  const { log, warmupMs, measureMs } = context
  const superSql = postgres(database.superUrl, { max: 1, onnotice: () => {} })
  const ownerSql = postgres(database.ownerUrl, { max: 1, onnotice: () => {} })
  const problems: string[] = []
  const warnings: string[] = []
  const checks: Check[] = []
  const check = (name: string, ok: boolean, detail: string): void => {
    checks.push({ name, ok, detail })
    if (!ok) problems.push(`${name}: ${detail}`)
  }

  // One figure: open the connections, checkpoint, warm up, run the hook, measure. Only the
  // measured window's calls are counted; connection setup and warm-up are outside it.
  const figure = async (
    label: string,
    url: string,
    connections: number,
    make: MakeCall,
    between?: (warm: PhaseStats) => Promise<void>,
  ): Promise<PhaseStats> => {
    const opened = await openConnections(url, connections)
    try {
      await superSql`checkpoint`
      const warm = await runPhase(
        opened.list.map((connection) => make(connection, 'warmup')),
        warmupMs,
      )
      if (between) await between(warm)
      const before = cpuSnapshot(database.cluster)
      const stats = await runPhase(
        opened.list.map((connection) => make(connection, 'measure')),
        measureMs,
      )
      stats.cpu = cpuSince(database.cluster, before)
      const shown = toFigure(stats)
      log(
        `${label} @${connections}: ${shown.tps.toFixed(0)} tps, p50 ${shown.p50Ms.toFixed(2)} ms, ` +
          `p99 ${shown.p99Ms.toFixed(2)} ms`,
      )
      return stats
    } finally {
      await opened.end()
    }
  }

  // Several figures at one concurrency: all connections opened, one checkpoint, each warmed up,
  // then `rounds` turns of measureMs / rounds each; every figure gets measureMs in total.
  const inTurns = async (parts: Part[], connections: number): Promise<PhaseStats[]> => {
    const opened: Awaited<ReturnType<typeof openConnections>>[] = []
    try {
      for (const part of parts) opened.push(await openConnections(part.url, connections))
      await superSql`checkpoint`
      const calls = parts.map((part, index) =>
        (opened[index]?.list ?? []).map((connection) => part.make(connection, 'measure')),
      )
      for (const list of calls) await runPhase(list, warmupMs)
      const slices: PhaseStats[][] = parts.map(() => [])
      for (let round = 0; round < context.rounds; round++) {
        for (const [index, list] of calls.entries()) {
          const before = cpuSnapshot(database.cluster)
          const slice = await runPhase(list, measureMs / context.rounds)
          slice.cpu = cpuSince(database.cluster, before)
          slices[index]?.push(slice)
        }
      }
      return slices.map((list, index) => {
        const merged = mergePhases(list)
        const shown = toFigure(merged)
        log(
          `${parts[index]?.label} @${connections}: ${shown.tps.toFixed(0)} tps, ` +
            `p50 ${shown.p50Ms.toFixed(2)} ms, p99 ${shown.p99Ms.toFixed(2)} ms`,
        )
        return merged
      })
    } finally {
      for (const connections of opened) await connections.end()
    }
  }

  const counterOf = async (user: BenchUser): Promise<Counter> => {
    const [row] = await ownerSql<{ used: string; quota: string; ledger: string }[]>`
      select c.used, c.quota,
        (select coalesce(sum(e.amount), 0) from tollgate_private.usage_events e
         where e.user_id = c.user_id and e.metric = c.metric) as ledger
      from tollgate_private.usage_counters c
      where c.user_id = ${user.id}::uuid and c.metric = ${METRIC}`
    if (!row) throw new Error(`no counter for ${user.id}`)
    return { used: num(row.used), quota: num(row.quota), ledger: num(row.ledger) }
  }

  const end = async (): Promise<void> => {
    await superSql.end()
    await ownerSql.end()
  }

  return {
    database,
    context,
    superSql,
    ownerSql,
    checks,
    problems,
    warnings,
    check,
    figure,
    inTurns,
    counterOf,
    end,
  }
}

/** Our figure on one user whose quota is crossed, with the counter read after the window. */
export const oursHot = (stats: PhaseStats, counter: Counter): HotFigure => ({
  ...toFigure(stats),
  quota: counter.quota,
  used: counter.used,
  overdraw: Math.max(0, counter.used - counter.quota),
  allowedAnswers: stats.allAllowed,
  ledger: counter.ledger,
})

/** Checks a hot figure of ours: no overdraw, every allowed answer counted once (else a warning). */
export const checkOurs = (session: Session, name: string, figure: HotFigure): void => {
  session.check(
    `${name}: no overdraw`,
    figure.overdraw === 0,
    `used ${figure.used}, quota ${figure.quota}`,
  )
  session.check(
    `${name}: every allowed answer counted once`,
    figure.allowedAnswers === figure.used && figure.ledger === figure.used,
    `allowed answers ${figure.allowedAnswers}, used ${figure.used}, ledger ${figure.ledger}`,
  )
  if (figure.used !== figure.quota) {
    session.warnings.push(`${name}: quota ${figure.quota} not reached (used ${figure.used})`)
  }
}
