// Postgres time per consume_usage call in PostgREST's framing (issue 17): on the bench database,
// ONE connection as `authenticator`, COUNT calls by random pool users, each framed as the
// benchmark frames it; the same for the framed ceiling's one-row update. Prints the wall time
// per call of both, the backend's CPU per call (from /proc), and pg_stat_user_functions' self time
// per function for the consume calls (track_functions = all, reset before them).
// npx tsx bench/profile-consume.ts   (COUNT=<calls>, default 20000; ONLY=<text>: only the figures whose
// name contains it, e.g. ONLY=usage; the self times are then per call of the first one kept)
import { readFileSync } from 'node:fs'
import postgres from 'postgres'
import { createBenchDatabase } from './lib/database.ts'
import { consumeCall, framedCeilingCall, framedReadCeilingCall, openConnections, pick, usageCall } from './lib/workloads.ts'

const COUNT = Number(process.env.COUNT ?? 20000)
const TICKS = 100

// CPU seconds a backend used so far (utime + stime of /proc/<pid>/stat).
const cpuOf = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(fields[11]) + Number(fields[12])) / TICKS
}

const database = await createBenchDatabase(() => {})
try {
  const sup = postgres(database.superUrl, { onnotice: () => {}, max: 1 })
  await sup.unsafe(`alter system set track_functions = 'all'`)
  await sup`select pg_reload_conf()`
  // EXPERIMENT='<sql>': run as a superuser on the bench database before measuring (what-ifs).
  if (process.env.EXPERIMENT) await sup.unsafe(process.env.EXPERIMENT)
  const connections = await openConnections(database.apiUrl, 1)
  const connection = connections.list[0]
  if (!connection) throw new Error('no connection')
  const [{ pid }] = await connection`select pg_backend_pid() as pid`
  const user = () => pick(database.users)
  const figures: [string, () => Promise<boolean>][] = (
    [
      ['framed ceiling (one-row update)', framedCeilingCall(connection, user, null)],
      ['consume_usage, framed', consumeCall(connection, user)],
      ['framed read ceiling', framedReadCeilingCall(connection, user)],
      ['usage view, framed', usageCall(connection, user, 5)],
    ] as [string, () => Promise<boolean>][]
  ).filter(([name]) => !process.env.ONLY || name.includes(process.env.ONLY))
  // Rounds of ROUND calls, the figures alternating, so a slower minute of the machine weighs on
  // all of them alike.
  const ROUND = 2000
  const totals = figures.map(() => ({ wall: 0, cpu: 0, calls: 0 }))
  for (const [, call] of figures) for (let k = 0; k < 2000; k++) await call()
  await sup`select pg_stat_reset()`
  for (let round = 0; round < Math.ceil(COUNT / ROUND); round++) {
    for (const [index, [, call]] of figures.entries()) {
      const cpu = cpuOf(Number(pid))
      const started = process.hrtime.bigint()
      for (let k = 0; k < ROUND; k++) await call()
      const total = totals[index]
      if (!total) continue
      total.wall += Number(process.hrtime.bigint() - started) / 1000
      total.cpu += (cpuOf(Number(pid)) - cpu) * 1e6
      total.calls += ROUND
    }
  }
  for (const [index, [name]] of figures.entries()) {
    const total = totals[index]
    if (!total) continue
    console.log(`${name.padEnd(36)} wall ${(total.wall / total.calls).toFixed(0).padStart(5)} us, backend CPU ${(total.cpu / total.calls).toFixed(0).padStart(5)} us per call`)
  }
  const perCallOf = process.env.ONLY ? 0 : 1
  const consumed = totals[perCallOf]?.calls ?? 1
  const rows = await sup`
    select schemaname || '.' || funcname as fn, calls, round(self_time::numeric, 1) as self_ms
    from pg_stat_user_functions
    where ${process.env.ONLY ? true : false} or funcname not in ('usage_rows', 'usage_of_caller')
    order by self_time desc limit 14`
  console.log(`self time per function (all figures kept; per call of ${figures[perCallOf]?.[0]}):`)
  for (const r of rows) {
    console.log(`    ${String(r.fn).padEnd(56)} ${((Number(r.self_ms) * 1000) / consumed).toFixed(1).padStart(7)} us ${(Number(r.calls) / consumed).toFixed(2).padStart(6)} calls`)
  }
  const tables = await sup`
    select relname, n_tup_upd, n_tup_hot_upd from pg_stat_user_tables
    where relname in ('usage_counters', 'bench_ceiling')`
  for (const t of tables) console.log(`${t.relname}: ${t.n_tup_upd} updates, ${t.n_tup_hot_upd} HOT`)
  await connections.end()
  await sup.end()
} finally {
  await database.stop()
}
