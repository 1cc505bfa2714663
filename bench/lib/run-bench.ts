import { cpus, loadavg, release, totalmem } from 'node:os'
import postgres from 'postgres'
import {
  CEILING_FRAMED_HOT_KEY,
  CEILING_HOT_KEY,
  CEILING_ROWS,
  CEILING_WARM_KEY,
  METRIC,
  NAIVE_QUOTA,
  POOL_USERS,
  createBenchDatabase,
  type BenchDatabase,
  type BenchUser,
} from './database.ts'
import { cpuSince, cpuSnapshot } from './cpu.ts'
import {
  mergePhases,
  runPhase,
  toFigure,
  type Call,
  type Figure,
  type PhaseStats,
} from './measure.ts'
import { webhookBench, type WebhookFigures } from './webhooks.ts'
import {
  STATEMENTS,
  ceilingCall,
  consumeCall,
  framedCeilingCall,
  framedReadCeilingCall,
  naiveCall,
  openConnections,
  pick,
  usageCall,
  type Connection,
} from './workloads.ts'

/** Options of one benchmark run. */
export type BenchOptions = {
  /** A few seconds per figure; only correctness matters (default false). */
  quick?: boolean
  /** Progress lines (default: none). */
  log?: (line: string) => void
  /** Runs once the database is loaded, before any figure (tests break things on purpose). */
  afterSetup?: (database: BenchDatabase) => Promise<void>
}

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
  consume: RatioFigure[]
  ceilingHot: HotFigure
  /** The hot-row variant inside the RPC framing, same quota. */
  ceilingFramedHot: Figure
  /** Ours against the ceiling inside the same framing (context for the targets, not targets). */
  framedRatios: { at8: number; hot: number; hotAllowedPhase: number | null }
  hotUser: HotFigure & {
    ratio: number
    /** Ratio of the rates while the quota lasted (counting calls). */
    allowedPhaseRatio: number | null
    /** Ratio of the rates once both refuse. */
    refusedPhaseRatio: number | null
  }
  naive: NaiveRow[]
  reads: Figure[]
  /** One row by key in the same read framing: what any PostgREST read costs at least (context). */
  readCeiling: Figure[]
  webhooks: WebhookFigures
  targets: Target[]
  checks: Check[]
  /** Failed checks and warnings; a failed check makes `ok` false. */
  problems: string[]
  warnings: string[]
  ok: boolean
}

type Phase = 'warmup' | 'measure'

type MakeCall = (connection: Connection, phase: Phase) => Call

type Part = { label: string; url: string; make: MakeCall }

const LEVELS = [1, 8, 32] as const
const NAIVE_LEVELS = [8, 32] as const
const HOT_CONNECTIONS = 32
const FRAMED_CONNECTIONS = 8
const READ_LEVELS = [8, 1] as const

const SETTINGS = [
  'fsync',
  'synchronous_commit',
  'full_page_writes',
  'wal_sync_method',
  'shared_buffers',
  'max_wal_size',
  'checkpoint_timeout',
  'max_connections',
]

const phaseRatio = (ours: number | null, base: number | null): number | null =>
  ours === null || base === null || base === 0 ? null : ours / base

const cpuRatio = (base: Figure, ours: Figure, withClient: boolean): number | null => {
  if (base.serverCpuUs === null || ours.serverCpuUs === null) return null
  if (base.clientCpuUs === null || ours.clientCpuUs === null) return null
  const baseUs = base.serverCpuUs + (withClient ? base.clientCpuUs : 0)
  const oursUs = ours.serverCpuUs + (withClient ? ours.clientCpuUs : 0)
  return oursUs === 0 ? null : baseUs / oursUs
}

const num = (value: string | number | null | undefined): number => Number(value ?? Number.NaN)

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

type Context = {
  quick: boolean
  /** Turns in which figures measured together share their window. */
  rounds: number
  log: (line: string) => void
  warmupMs: number
  measureMs: number
  loadAverageBefore: number[]
}

const measureAll = async (database: BenchDatabase, context: Context): Promise<BenchResult> => {
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

  const counterOf = async (user: BenchUser) => {
    const [row] = await ownerSql<{ used: string; quota: string; ledger: string }[]>`
      select c.used, c.quota,
        (select coalesce(sum(e.amount), 0) from tollgate_private.usage_events e
         where e.user_id = c.user_id and e.metric = c.metric) as ledger
      from tollgate_private.usage_counters c
      where c.user_id = ${user.id}::uuid and c.metric = ${METRIC}`
    if (!row) throw new Error(`no counter for ${user.id}`)
    return { used: num(row.used), quota: num(row.quota), ledger: num(row.ledger) }
  }

  const oursHot = (
    stats: PhaseStats,
    counter: { used: number; quota: number; ledger: number },
  ) => ({
    ...toFigure(stats),
    quota: counter.quota,
    used: counter.used,
    overdraw: Math.max(0, counter.used - counter.quota),
    allowedAnswers: stats.allAllowed,
    ledger: counter.ledger,
  })

  const checkOurs = (name: string, figure: HotFigure): void => {
    check(
      `${name}: no overdraw`,
      figure.overdraw === 0,
      `used ${figure.used}, quota ${figure.quota}`,
    )
    check(
      `${name}: every allowed answer counted once`,
      figure.allowedAnswers === figure.used && figure.ledger === figure.used,
      `allowed answers ${figure.allowedAnswers}, used ${figure.used}, ledger ${figure.ledger}`,
    )
    if (figure.used !== figure.quota) {
      warnings.push(`${name}: quota ${figure.quota} not reached (used ${figure.used})`)
    }
  }

  // 1 and 2: ceiling and consume_usage (and at 8 the ceiling inside the RPC framing) at 1, 8 and
  // 32 connections, measured in turns of measureMs / rounds each, so a burst of load from
  // elsewhere on the machine hits all of them alike.
  const ceiling: Figure[] = []
  const consume: RatioFigure[] = []
  let ceilingFramed: Figure | undefined
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
    if (connections === FRAMED_CONNECTIONS) {
      parts.push({
        label: 'ceiling inside the RPC framing',
        url: database.apiUrl,
        make: (connection) => framedCeilingCall(connection, () => pick(database.users), null),
      })
    }
    const [base, ours, framed] = (await inTurns(parts, connections)).map(toFigure)
    if (!base || !ours) throw new Error('a figure is missing')
    ceiling.push(base)
    consume.push({
      ...ours,
      ratio: ours.tps / base.tps,
      cpuRatio: cpuRatio(base, ours, true),
      serverCpuRatio: cpuRatio(base, ours, false),
    })
    if (framed) ceilingFramed = framed
    check(
      `consume_usage @${connections}: no refusal under the quota`,
      ours.refused === 0,
      `${ours.refused} of ${ours.calls} refused`,
    )
  }

  if (!ceilingFramed) throw new Error('the framed ceiling was not measured')

  // 1 (hot-row variant) and 3: one row / one user at 32 connections, with the same quota Q,
  // chosen from the ceiling's warm-up so that the ceiling crosses it about half-way.
  let hotQuota = 0
  const ceilingHotStats = await figure(
    'ceiling (hot row)',
    database.ownerUrl,
    HOT_CONNECTIONS,
    (connection, phase) =>
      ceilingCall(connection, phase === 'warmup' ? CEILING_WARM_KEY : CEILING_HOT_KEY),
    async (warm) => {
      const rate = warm.allAllowed / warm.seconds
      hotQuota = Math.max(50, Math.round((rate * measureMs) / 1000 / 2))
      await ownerSql`
        update public.bench_ceiling set used = 0, quota = ${hotQuota} where key = ${CEILING_HOT_KEY}`
    },
  )
  const [hotRow] = await ownerSql<{ used: string; quota: string }[]>`
    select used, quota from public.bench_ceiling where key = ${CEILING_HOT_KEY}`
  const ceilingHot: HotFigure = {
    ...toFigure(ceilingHotStats),
    quota: num(hotRow?.quota),
    used: num(hotRow?.used),
    overdraw: Math.max(0, num(hotRow?.used) - num(hotRow?.quota)),
    allowedAnswers: ceilingHotStats.allAllowed,
    ledger: null,
  }
  if (ceilingHot.used !== ceilingHot.quota) {
    warnings.push(
      `ceiling hot row: quota ${ceilingHot.quota} not reached (used ${ceilingHot.used})`,
    )
  }

  const framedHotStats = await figure(
    'ceiling inside the RPC framing (hot row)',
    database.apiUrl,
    HOT_CONNECTIONS,
    (connection, phase) =>
      framedCeilingCall(
        connection,
        () => pick(database.users),
        phase === 'warmup' ? CEILING_WARM_KEY : CEILING_FRAMED_HOT_KEY,
      ),
    async () => {
      await ownerSql`
        update public.bench_ceiling set used = 0, quota = ${hotQuota}
        where key = ${CEILING_FRAMED_HOT_KEY}`
    },
  )
  const ceilingFramedHot = toFigure(framedHotStats)

  const { special } = database
  const hotStats = await figure(
    'consume_usage (hot user)',
    database.apiUrl,
    HOT_CONNECTIONS,
    (connection, phase) =>
      consumeCall(connection, () => (phase === 'warmup' ? special.hotWarm : special.hotMeasured)),
    async () => {
      // The limit edit marks the counter for a re-check; syncing applies it now, so the window
      // starts on the fast path with used 0 and quota Q.
      await ownerSql`
        update tollgate.plan_limits set quota = ${hotQuota}
        where plan_id = 'bench_hot' and metric = ${METRIC}`
      await ownerSql`select tollgate_private.sync_usage_counters(${special.hotMeasured.id}::uuid, now())`
      const start = await counterOf(special.hotMeasured)
      if (start.used !== 0 || start.quota !== hotQuota) {
        throw new Error(`hot user starts at used ${start.used}, quota ${start.quota}`)
      }
    },
  )
  const hot = oursHot(hotStats, await counterOf(special.hotMeasured))
  checkOurs('hot user', hot)
  const hotUser = {
    ...hot,
    ratio: hot.tps / ceilingHot.tps,
    allowedPhaseRatio: phaseRatio(hot.allowedPhaseTps, ceilingHot.allowedPhaseTps),
    refusedPhaseRatio: phaseRatio(hot.refusedPhaseTps, ceilingHot.refusedPhaseTps),
  }

  // 4: the naive read-sum-then-insert next to ours, one user with quota 1,000.
  const naive: NaiveRow[] = []
  for (const connections of NAIVE_LEVELS) {
    const naiveUser = connections === 8 ? special.naiveAt8 : special.naiveAt32
    const naiveStats = await figure(
      'naive read-sum-then-insert',
      database.ownerUrl,
      connections,
      (connection, phase) =>
        naiveCall(connection, phase === 'warmup' ? special.naiveWarm : naiveUser),
    )
    const [sumRow] = await ownerSql<{ sum: string }[]>`
      select coalesce(sum(amount), 0) as sum from public.bench_naive_usage
      where user_id = ${naiveUser}::uuid`
    const sum = num(sumRow?.sum)
    const oursUser = connections === 8 ? special.quotaAt8 : special.quotaAt32
    const oursStats = await figure(
      'consume_usage (one user, quota 1,000)',
      database.apiUrl,
      connections,
      (connection, phase) =>
        consumeCall(connection, () => (phase === 'warmup' ? special.quotaWarm : oursUser)),
    )
    const ours = oursHot(oursStats, await counterOf(oursUser))
    checkOurs(`one user, quota 1,000 @${connections}`, ours)
    naive.push({
      connections,
      naive: { ...toFigure(naiveStats), sum, overdraw: Math.max(0, sum - NAIVE_QUOTA) },
      ours,
    })
  }

  // 6: the usage view as PostgREST reads it, next to one row by key in the same framing.
  const reads: Figure[] = []
  const readCeiling: Figure[] = []
  for (const connections of READ_LEVELS) {
    readCeiling.push(
      toFigure(
        await figure('read ceiling (one row by key, framed)', database.apiUrl, connections, (connection) =>
          framedReadCeilingCall(connection, () => pick(database.users)),
        ),
      ),
    )
    reads.push(
      toFigure(
        await figure('usage view (read)', database.apiUrl, connections, (connection) =>
          usageCall(connection, () => pick(database.users), 3),
        ),
      ),
    )
  }

  // 5: signed Stripe events POSTed to the functions served on Node (see webhooks.ts).
  const webhooks = await webhookBench({ database, quick: context.quick, warmupMs, measureMs, log })
  check(
    'webhooks: every event applied once, duplicates change nothing',
    webhooks.appliedOnce,
    webhooks.detail,
  )

  // Whole-database invariants after every figure.
  const [invariants] = await ownerSql<{ overdrawn: number; mismatched: number }[]>`
    select
      count(*) filter (where c.quota <> -1 and c.used > c.quota)::int as overdrawn,
      count(*) filter (where c.used <> coalesce((
        select sum(e.amount) from tollgate_private.usage_events e
        where e.user_id = c.user_id and e.metric = c.metric and e.period_start = c.period_start
      ), 0))::int as mismatched
    from tollgate_private.usage_counters c
    where c.metric = ${METRIC}`
  check(
    'all counters: none overdrawn',
    invariants?.overdrawn === 0,
    `${invariants?.overdrawn} overdrawn`,
  )
  check(
    'all counters: used equals the ledger',
    invariants?.mismatched === 0,
    `${invariants?.mismatched} differ`,
  )

  const [version] = await superSql<{ version: string }[]>`select version()`
  const settingRows = await superSql<{ name: string; setting: string; unit: string | null }[]>`
    select name, setting, unit from pg_catalog.pg_settings where name in ${superSql(SETTINGS)}`
  await superSql.end()
  await ownerSql.end()

  const at8 = consume.find((row) => row.connections === 8)
  const read8 = reads.find((row) => row.connections === 8)
  const targets: Target[] = [
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
  ]

  const cpuList = cpus()
  return {
    mode: context.quick ? 'quick' : 'full',
    date: new Date().toISOString(),
    machine: {
      cores: cpuList.length,
      cpu: cpuList[0]?.model ?? 'unknown',
      memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
      kernel: release(),
      node: process.version,
      loadAverageBefore: context.loadAverageBefore,
      loadAverageAfter: loadavg(),
    },
    postgres: {
      version: version?.version ?? 'unknown',
      settings: Object.fromEntries(
        settingRows.map((row) => [
          row.name,
          row.unit ? `${row.setting} (${row.unit})` : row.setting,
        ]),
      ),
    },
    method: {
      warmupSeconds: warmupMs / 1000,
      measureSeconds: measureMs / 1000,
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
    targets,
    checks,
    problems,
    warnings,
    ok: problems.length === 0,
  }
}
