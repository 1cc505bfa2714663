import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Figure } from './measure.ts'
import { PEER_PHASES, type PeerFigures, type PeerPhase } from './peer.ts'
import type { BenchResult, PeerResult, Target } from './run-bench.ts'

type Row = {
  item: string
  figure: string
  connections: string
  tps: string
  p50: string
  p99: string
  server: string
  client: string
  ratio: string
  notes: string
}

const fixed = (value: number | null | undefined, digits: number): string =>
  value === null || value === undefined || Number.isNaN(value) ? '' : value.toFixed(digits)

const measured = (
  item: string,
  name: string,
  figure: Figure,
  ratio: number | null,
  notes: string,
): Row => ({
  item,
  figure: name,
  connections: String(figure.connections),
  tps: fixed(figure.tps, 0),
  p50: fixed(figure.p50Ms, 2),
  p99: fixed(figure.p99Ms, 2),
  server: fixed(figure.serverCpuUs, 0),
  client: fixed(figure.clientCpuUs, 0),
  ratio: fixed(ratio, 2),
  notes,
})

const phases = (figure: Figure): string =>
  figure.firstRefusalSeconds === null
    ? 'quota not reached'
    : `quota reached at ${figure.firstRefusalSeconds.toFixed(2)} s; ` +
      `${fixed(figure.allowedPhaseTps, 0)} tps before, ${fixed(figure.refusedPhaseTps, 0) || '-'} after`

// "created 400, invoice.paid 1400, ...": what a webhook window delivered.
const mixOf = (mix: Record<string, number>): string => {
  const total = Object.values(mix).reduce((n, count) => n + count, 0)
  const short = (type: string) =>
    type.replace('customer.subscription.', 'subscription.').replace('checkout.session.', 'checkout.')
  return Object.entries(mix)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([type, count]) => `${short(type)} ${Math.round((count / total) * 100)}%`)
    .join(', ')
}

const rowsOf = (result: BenchResult): Row[] => {
  const rows: Row[] = []
  result.ceiling.forEach((base, index) => {
    rows.push(measured('1', 'ceiling: conditional update, random keys', base, null, ''))
    const ours = result.consume[index]
    if (!ours) return
    const framed = [result.ceilingFramed, result.ceilingFramed32].find(
      (figure) => figure.connections === ours.connections,
    )
    const atFramed = framed !== undefined
    if (atFramed) {
      rows.push(
        measured(
          '1',
          'ceiling inside the RPC framing',
          framed,
          framed.tps / base.tps,
          'ratio to the ceiling',
        ),
      )
    }
    rows.push(
      measured(
        '2',
        'consume_usage RPC, random users',
        ours,
        ours.ratio,
        `CPU ratio ${fixed(ours.cpuRatio, 2) || 'n/a'} (server only ${fixed(ours.serverCpuRatio, 2) || 'n/a'})` +
          (atFramed ? `; ${(ours.tps / framed.tps).toFixed(2)} of the framed ceiling` : '') +
          `; refused ${ours.refused}`,
      ),
    )
    const credits = result.consumeCredits
    if (credits.connections === ours.connections) {
      rows.push(
        measured(
          '2',
          'consume_usage RPC, random users past their quota drawing credits',
          credits,
          credits.ratio,
          `CPU ratio ${fixed(credits.cpuRatio, 2) || 'n/a'}; ${(credits.tps / ours.tps).toFixed(2)} of the no-credit figure; refused ${credits.refused}`,
        ),
      )
    }
  })
  const { ceilingHot, hotUser } = result
  rows.push(
    measured(
      '1',
      `ceiling: hot row, quota ${ceilingHot.quota}`,
      ceilingHot,
      null,
      `used ${ceilingHot.used}; ${phases(ceilingHot)}`,
    ),
  )
  const framedHot = result.ceilingFramedHot
  rows.push(
    measured(
      '1',
      `ceiling inside the RPC framing: hot row, quota ${ceilingHot.quota}`,
      framedHot,
      framedHot.tps / ceilingHot.tps,
      `ratio to the hot row; ${phases(framedHot)}`,
    ),
  )
  rows.push(
    measured(
      '3',
      `consume_usage RPC: hot user, quota ${hotUser.quota}`,
      hotUser,
      hotUser.ratio,
      `overdraw ${hotUser.overdraw}; used ${hotUser.used}; ${phases(hotUser)}; phase ratios ` +
        `${fixed(hotUser.allowedPhaseRatio, 2) || 'n/a'} before, ${fixed(hotUser.refusedPhaseRatio, 2) || 'n/a'} after`,
    ),
  )
  for (const row of result.naive) {
    rows.push(
      measured(
        '4',
        'naive: read sum then insert, quota 1000',
        row.naive,
        null,
        `OVERDRAW ${row.naive.overdraw} (sum ${row.naive.sum}); ${phases(row.naive)}`,
      ),
    )
    rows.push(
      measured(
        '4',
        'consume_usage RPC: one user, quota 1000',
        row.ours,
        null,
        `overdraw ${row.ours.overdraw} (used ${row.ours.used}); ${phases(row.ours)}`,
      ),
    )
  }
  for (const row of result.webhooks.rows) {
    rows.push({
      item: '5',
      figure:
        row.replay === 'first'
          ? 'webhooks: signed Stripe events over HTTP'
          : 'webhooks: the same events again (duplicates)',
      connections: String(row.clients),
      tps: fixed(row.eventsPerSecond, 0),
      p50: fixed(row.p50Ms, 2),
      p99: fixed(row.p99Ms, 2),
      server: fixed(row.pgCpuUs, 0),
      client: fixed(row.serverCpuUs, 0),
      ratio: '',
      notes:
        `node column: the server process; client ${fixed(row.clientCpuUs, 0)} us, fake Stripe ` +
        `${fixed(row.stripeCpuUs, 0)} us per event; ${mixOf(row.mix)}` +
        (row.signedInWindow > 0 ? `; ${row.signedInWindow} signed in the window` : ''),
    })
  }
  for (const read of result.reads) {
    const ceiling = result.readCeiling.find((row) => row.connections === read.connections)
    if (ceiling) {
      rows.push(measured('6', 'read ceiling: one row by key, same framing', ceiling, null, ''))
    }
    const limit = result.readRowsLimit.find((row) => row.connections === read.connections)
    if (limit) {
      rows.push(
        measured(
          '6',
          "read limit: the view's rows by key from a plain table, same framing",
          limit,
          null,
          ceiling ? `p99 ${fixed(limit.p99Ms / ceiling.p99Ms, 2)}x the read ceiling's` : '',
        ),
      )
    }
    rows.push(
      measured(
        '6',
        'usage view read (PostgREST style)',
        read,
        null,
        (ceiling ? `p99 ${fixed(read.p99Ms / ceiling.p99Ms, 2)}x the read ceiling's` : '') +
          (limit ? `, ${fixed(read.p99Ms / limit.p99Ms, 2)}x the limit's` : ''),
      ),
    )
  }
  const { policies } = result
  rows.push(measured('7', "app table read whole, policy true (100,000 rows)", policies.open, null, ''))
  rows.push(
    measured(
      '7',
      "the same, policy (select tollgate.has_feature('export'))",
      policies.feature,
      policies.ratio,
      'ratio: has_feature policy / policy true',
    ),
  )
  for (const row of result.metering) {
    rows.push(measured('8', `consume_usage RPC (framed) @${row.connections}`, row.rpc, null, ''))
    rows.push(
      measured(
        '8',
        `POST /metering/consume over HTTP (API key) @${row.connections}`,
        row.metering,
        row.ratio,
        'ratio: metering / RPC',
      ),
    )
  }
  return rows
}

const HEADERS: Row = {
  item: '#',
  figure: 'figure',
  connections: 'conns',
  tps: 'tps',
  p50: 'p50 ms',
  p99: 'p99 ms',
  server: 'pg us/call',
  client: 'node us/call',
  ratio: 'ratio',
  notes: 'notes',
}

const COLUMNS = [
  'item',
  'figure',
  'connections',
  'tps',
  'p50',
  'p99',
  'server',
  'client',
  'ratio',
  'notes',
] as const
const RIGHT = new Set(['connections', 'tps', 'p50', 'p99', 'server', 'client', 'ratio'])

const PHASE_NAMES: Record<PeerPhase, string> = {
  first8: 'first deliveries @8',
  first32: 'first deliveries @32',
  dup8: 'duplicates @8',
  dup32: 'duplicates @32',
}

const thousands = (value: number): string => Math.round(value).toLocaleString('en-US')

const pair = (a: number | null, b: number | null): string => `${fixed(a, 0)} / ${fixed(b, 0)}`

/** The peer figure as issue 17's table (Markdown), each turn's events/s under it. */
export const peerTable = (peer: PeerFigures): string[] => [
  mdRow([
    'phase',
    'ours ev/s',
    'peer ev/s',
    'ours / peer',
    'Postgres µs/event ours / peer',
    'server µs/event ours / peer',
  ]),
  mdRow(['---', '---:', '---:', '---:', '---:', '---:']),
  ...PEER_PHASES.map((phase) => {
    const ratio = peer[phase]
    const cpu = peer.cpu[phase]
    return mdRow([
      PHASE_NAMES[phase],
      thousands(ratio.ours),
      thousands(ratio.peer),
      ratio.eventsRatio.toFixed(2),
      pair(cpu.oursPgUs, cpu.peerPgUs),
      pair(cpu.oursServerUs, cpu.peerServerUs),
    ])
  }),
  '',
  `Each turn, ours / peer events/s (${peer.method.turns} turn${peer.method.turns === 1 ? '' : 's'} of ${peer.method.measureSeconds} s, ` +
    'alternating which goes first):',
  ...PEER_PHASES.map(
    (phase) =>
      `- ${PHASE_NAMES[phase]}: ` +
      Array.from({ length: peer.method.turns }, (_, turn) => {
        const rate = (system: 'ours' | 'peer') =>
          peer.rows.find((row) => row.phase === phase && row.turn === turn + 1 && row.system === system)
            ?.eventsPerSecond ?? Number.NaN
        return `${thousands(rate('ours'))} / ${thousands(rate('peer'))}`
      }).join('; '),
  ),
  '',
  `Peer: ${peer.method.peer}. ${peer.method.users} users; first deliveries ours ` +
    `${peer.method.firstDeliveries.ours}, peer ${peer.method.firstDeliveries.peer}; then ` +
    `${peer.method.shuffledEvents} events of a second stream x${peer.method.shuffledCopies}, ` +
    `shuffled. Figure time ${peer.seconds.toFixed(0)} s.`,
]

const peerSection = (result: BenchResult): string[] =>
  result.peer
    ? ['', 'peer figure: ours / stripe-sync-engine on the same stream (issue 17)', ...peerTable(result.peer)]
    : ['', 'peer figure: not run in --quick (`npx tsx bench/run.ts --only peer --quick` checks it)']

const verdict = (target: Target): string =>
  target.met === null ? 'not measured' : target.met ? 'met' : 'MISSED'

const header = (result: BenchResult): string[] => [
  `Tollgate benchmark (${result.mode}), ${result.date}`,
  `${result.machine.cores} cores (${result.machine.cpu}), ${result.machine.memoryGb} GB, ` +
    `Node ${result.machine.node}, ${result.postgres.version.split(' on ')[0]}`,
  `durability: fsync ${result.postgres.settings.fsync}, synchronous_commit ` +
    `${result.postgres.settings.synchronous_commit}, full_page_writes ${result.postgres.settings.full_page_writes}`,
  `warm-up ${result.method.warmupSeconds} s, window ${result.method.measureSeconds} s per figure; ` +
    `load average before ${result.machine.loadAverageBefore.map((n) => n.toFixed(2)).join(' ')}, ` +
    `after ${result.machine.loadAverageAfter.map((n) => n.toFixed(2)).join(' ')}`,
]

/** The result as a plain-text table for the terminal. */
export const renderTable = (result: BenchResult): string => {
  const rows = [HEADERS, ...rowsOf(result)]
  const widths = COLUMNS.map((column) =>
    column === 'notes' ? 0 : Math.max(...rows.map((row) => row[column].length)),
  )
  const line = (row: Row): string =>
    COLUMNS.map((column, index) => {
      const width = widths[index] ?? 0
      return RIGHT.has(column) ? row[column].padStart(width) : row[column].padEnd(width)
    })
      .join('  ')
      .trimEnd()
  const targets = result.targets.map(
    (target) =>
      `  ${target.name.padEnd(40)} ${target.target.padEnd(9)} ${target.value.padEnd(18)} ${verdict(target)}`,
  )
  const failed = result.checks.filter((check) => !check.ok)
  return [
    ...header(result),
    '',
    ...rows.map(line),
    ...peerSection(result),
    '',
    'targets',
    ...targets,
    `  context: ours / the ceiling inside the same RPC framing: ${framedLine(result)}`,
    '',
    failed.length === 0
      ? `correctness: all ${result.checks.length} checks passed`
      : `CORRECTNESS FAILED:\n${failed.map((check) => `  ${check.name}: ${check.detail}`).join('\n')}`,
    ...result.warnings.map((warning) => `warning: ${warning}`),
  ].join('\n')
}

const framedLine = (result: BenchResult): string => {
  const ceiling8 = result.readCeiling.find((row) => row.connections === 8)
  return (
    `${fixed(result.framedRatios.at8, 2)} @8, ${fixed(result.framedRatios.at32, 2)} @32, hot user ${fixed(result.framedRatios.hot, 2)} ` +
    `(while the quota lasts ${fixed(result.framedRatios.hotAllowedPhase, 2) || 'n/a'})` +
    (ceiling8 ? `; one row read in the same framing: p99 @8 ${fixed(ceiling8.p99Ms, 2)} ms` : '')
  )
}

const mdRow = (cells: string[]): string => `| ${cells.join(' | ')} |`

const webhookMethod = (result: BenchResult): string[] => {
  const { method } = result.webhooks
  return [
    `5. Webhooks: Stripe events of ${method.users} users (customer.subscription.created, invoice.paid,`,
    '   checkout.session.completed, then monthly customer.subscription.updated + invoice.paid; built',
    '   from the derived fixtures, one user\'s events in the order Stripe created them, at least 100',
    '   events apart), signed with Stripe\'s algorithm before each window and POSTed by N keep-alive',
    '   node:http clients to `/functions/v1/stripe-webhook`, served by the local stack\'s gateway and',
    '   serveHttp in a separate Node process (its pool: 5 connections, as deployed); checkout events',
    '   fetch their subscription from the fake Stripe API in a third process. The webhook tables are',
    `   analyzed after each warm-up (steady state). Windows: ${method.warmupSeconds} s warm-up, then`,
    `   ${method.measureSeconds} s; first deliveries at 8 then 32 clients, then the same stream again (every`,
    '   event already applied) at 8 and 32. `pg us/call` is Postgres CPU per event, `node us/call`',
    '   the server process\'s. Afterwards the ledger must hold each event once, processed, with',
    '   attempts = deliveries, every user\'s subscription and invoices must be what the newest event',
    `   says, and the duplicates must change nothing: ${method.firstDeliveries} first deliveries,`,
    `   ${method.duplicateDeliveries} duplicate deliveries, ${method.stale} recorded stale.`,
  ]
}

/** The result as Markdown (bench/results/latest.md). */
export const renderMarkdown = (result: BenchResult): string => {
  const statements = result.method.statements
  const rows = rowsOf(result)
  return [
    '# Tollgate benchmark results',
    '',
    ...header(result).map((line) => `- ${line}`),
    `- setup (cluster, schema, seed, ${result.method.poolUsers} users, counters): ${result.setupSeconds.toFixed(1)} s`,
    '',
    '## Figures',
    '',
    'Ratios divide by the ceiling measured at the same concurrency in the same run.',
    '',
    mdRow(COLUMNS.map((column) => HEADERS[column])),
    mdRow(COLUMNS.map((column) => (RIGHT.has(column) ? '---:' : '---'))),
    ...rows.map((row) => mdRow(COLUMNS.map((column) => row[column] || ' '))),
    '',
    '## Targets',
    '',
    mdRow(['target', 'wanted', 'this run', 'verdict']),
    mdRow(['---', '---', '---', '---']),
    ...result.targets.map((target) =>
      mdRow([target.name, target.target, target.value, verdict(target)]),
    ),
    '',
    `Context (not targets): ours / the ceiling inside the same RPC framing: ${framedLine(result)}.`,
    '',
    '## Ours beside stripe-sync-engine (issue 17)',
    '',
    ...(result.peer ? peerTable(result.peer) : ['Not run (quick mode).']),
    '',
    '## Correctness',
    '',
    ...result.checks.map(
      (check) => `- ${check.ok ? 'ok' : 'FAILED'}: ${check.name} (${check.detail})`,
    ),
    ...result.warnings.map((warning) => `- warning: ${warning}`),
    '',
    '## Method',
    '',
    `Each figure opens its connections (one postgres.js connection per loop, prepared statements),`,
    `runs a CHECKPOINT, warms up for ${result.method.warmupSeconds} s, then measures for`,
    `${result.method.measureSeconds} s. Every loop awaits its call before the next; a call counts when it`,
    'starts and ends inside the window; latency is measured around the call with `process.hrtime.bigint()`.',
    `At each concurrency the random-key figures (1, 2 and the framed ceiling) are measured in`,
    `${result.method.rounds} turns of ${result.method.measureSeconds / result.method.rounds} s each, so a burst of load from elsewhere`,
    'hits them alike; the others are measured in one window (their state changes during it).',
    "`pg us/call` is the CPU time of all the cluster's processes (/proc/<pid>/schedstat) and",
    '`node us/call` that of the benchmark client (process.cpuUsage) over the window, per call: other',
    'tenants of a shared machine move tps, not these. The CPU ratio (ceiling CPU per call / ours)',
    'is the tps ratio a CPU-bound machine converges to when client and server share it.',
    '',
    `1. Ceiling (as the owner \`postgres\`, auto-commit): \`${statements.ceiling}\` over`,
    `   ${result.method.ceilingRows} rows with random keys. Hot-row variant: warm-up on key 1, window on key 2`,
    `   whose quota Q = ${result.method.hotQuota} is set after the warm-up (half of what the warm-up rate would`,
    '   do in the window).',
    '   "Ceiling inside the RPC framing" runs the same update as `authenticated` inside the framing',
    '   of (2): what any PostgREST call that writes one row costs at least (at 8 connections, and',
    '   as a hot row at 32 on key 3 with the same Q).',
    `2. consume_usage as PostgREST runs an RPC, logged in as \`authenticator\`, one transaction per call,`,
    '   the four statements pipelined in one round trip:',
    `   \`${statements.begin}\`; \`${statements.claims}\`; \`${statements.consume}\`; \`${statements.commit}\`.`,
    `   Claims are full Supabase access-token claims of one of ${result.method.poolUsers} free-plan users picked at random;`,
    "   every user already has this period's counters (steady state).",
    '3. Hot user: the same RPC for one user on a plan whose api_calls quota is set to the same Q',
    '   as the hot row just before the window (warm-up on another user).',
    `4. Naive (as the owner, one read-committed transaction): \`${statements.begin}\` +`,
    `   \`${statements.naiveRead}\` (pipelined), then, when the sum is under 1000,`,
    `   \`${statements.naiveInsert}\` + \`commit\` (pipelined), else \`commit\`. Ours beside it is the`,
    '   RPC of (2) for one user on a plan with api_calls quota 1000; both start the window at 0.',
    ...webhookMethod(result),
    `6. Reads: \`${statements.beginReadOnly}\`; the claims statement; \`${statements.usage}\`;`,
    '   `commit`, pipelined, as a random free-plan user (3 rows each).',
    '',
    '## Postgres settings',
    '',
    ...Object.entries(result.postgres.settings).map(([name, value]) => `- ${name}: ${value}`),
    '',
  ].join('\n')
}

/** The peer figure alone (`bench/run.ts --only peer`) for the terminal and as Markdown. */
export const renderPeer = (result: PeerResult): string => {
  const failed = result.checks.filter((check) => !check.ok)
  return [
    `Tollgate benchmark, peer figure only (${result.mode}), ${result.date}`,
    `${result.machine.cores} cores (${result.machine.cpu}), Node ${result.machine.node}; load ` +
      `average before ${result.machine.loadAverageBefore.map((n) => n.toFixed(2)).join(' ')}, ` +
      `after ${result.machine.loadAverageAfter.map((n) => n.toFixed(2)).join(' ')}`,
    '',
    ...peerTable(result.peer),
    '',
    'targets',
    ...result.targets.map(
      (target) =>
        `  ${target.name.padEnd(40)} ${target.target.padEnd(7)} ${target.value.padEnd(22)} ${verdict(target)}`,
    ),
    '',
    ...result.checks.map((check) => `${check.ok ? 'ok' : 'FAILED'}: ${check.name} (${check.detail})`),
    failed.length === 0
      ? `correctness: all ${result.checks.length} checks passed`
      : `CORRECTNESS FAILED: ${failed.length} of ${result.checks.length}`,
  ].join('\n')
}

/** Writes peer.json and peer.md (the peer figure alone) into `dir`. */
export const writePeerResults = async (result: PeerResult, dir: string): Promise<string[]> => {
  await mkdir(dir, { recursive: true })
  const json = join(dir, 'peer.json')
  const md = join(dir, 'peer.md')
  await writeFile(json, `${JSON.stringify(result, null, 2)}\n`)
  await writeFile(md, `# ${renderPeer(result)}\n`)
  return [json, md]
}

/** Writes latest.json and latest.md into `dir`. */
export const writeResults = async (result: BenchResult, dir: string): Promise<string[]> => {
  await mkdir(dir, { recursive: true })
  const json = join(dir, 'latest.json')
  const md = join(dir, 'latest.md')
  await writeFile(json, `${JSON.stringify(result, null, 2)}\n`)
  await writeFile(md, renderMarkdown(result))
  return [json, md]
}
