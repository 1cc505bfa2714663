import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import postgres from 'postgres'
import type { Cluster } from '../packages/db/src/cluster.ts'
import {
  CEILING_WARM_KEY,
  METRIC,
  createBenchDatabase,
  onConnection,
  type BenchDatabase,
} from './lib/database.ts'
import { cpuSince, cpuSnapshot } from './lib/cpu.ts'
import { runPhase, toFigure, type Call, type Figure } from './lib/measure.ts'
import {
  STATEMENTS,
  ceilingCall,
  consumeCall,
  openConnections,
  pick,
  usageCall,
  type Connection,
} from './lib/workloads.ts'

// `npx tsx bench/profile.ts [--perf]`: where the time of consume_usage and of the usage view goes.
// Not part of the benchmark. It changes its own throwaway database to try SQL changes; sql/ is
// never touched. CPU per call (server processes from /proc/<pid>/schedstat, client from
// process.cpuUsage) is the figure to trust on a shared machine: other tenants move tps, not it.

const WARMUP_MS = 1000
const MEASURE_MS = 3000

const print = (text: string): void => {
  process.stdout.write(`${text}\n`)
}

type Measured = Figure & { serverUs: number; clientUs: number }

const measure = async (
  db: BenchDatabase,
  url: string,
  connections: number,
  make: (c: Connection) => Call,
): Promise<Measured> => {
  const opened = await openConnections(url, connections)
  try {
    await runPhase(opened.list.map(make), WARMUP_MS)
    const before = cpuSnapshot(db.cluster)
    const stats = await runPhase(opened.list.map(make), MEASURE_MS)
    stats.cpu = cpuSince(db.cluster, before)
    const figure = toFigure(stats)
    return {
      ...figure,
      serverUs: figure.serverCpuUs ?? Number.NaN,
      clientUs: figure.clientCpuUs ?? 0,
    }
  } finally {
    await opened.end()
  }
}

const cells = (f: Measured): string =>
  `${f.tps.toFixed(0).padStart(6)} ${f.p50Ms.toFixed(2).padStart(6)} ${f.p99Ms.toFixed(2).padStart(6)} ` +
  `${f.serverUs.toFixed(0).padStart(5)} ${f.clientUs.toFixed(0).padStart(5)}`

const CELL_HEAD = '   tps    p50    p99 srvus clius'

// The same framing as the RPC (begin; role + claims; statement; commit), pipelined.
const framed =
  (text: string, args: () => (string | number)[], claims: () => string) =>
  (connection: Connection): Call =>
  async () => {
    await Promise.all([
      connection.unsafe(STATEMENTS.begin).execute(),
      connection.unsafe(STATEMENTS.claims, [claims()], { prepare: true }).execute(),
      connection.unsafe(text, args(), { prepare: true }).execute(),
      connection.unsafe(STATEMENTS.commit).execute(),
    ])
    return true
  }

const statement =
  (text: string, args: () => (string | number)[]) =>
  (connection: Connection): Call =>
  async () => {
    await connection.unsafe(text, args(), { prepare: true })
    return true
  }

type Variant = { name: string; url: (db: BenchDatabase) => string; make: (c: Connection) => Call }

const variants = (db: BenchDatabase): Variant[] => {
  const user = () => pick(db.users)
  const id = () => [user().id]
  const claims = () => user().claims
  const random = () => [1 + Math.floor(Math.random() * 10_000)]
  return [
    {
      name: 'A ceiling update, auto-commit',
      url: (d) => d.ownerUrl,
      make: (c) => ceilingCall(c, null),
    },
    {
      name: 'B ceiling update inside the RPC framing',
      url: (d) => d.apiUrl,
      make: framed(STATEMENTS.ceiling, random, claims),
    },
    {
      name: 'C RPC framing around select 1 (no write)',
      url: (d) => d.apiUrl,
      make: framed('select 1', () => [], claims),
    },
    {
      name: 'D one statement: counter update + ledger insert',
      url: (d) => d.ownerUrl,
      make: statement(
        `with c as (
           update tollgate_private.usage_counters c set used = c.used + 1, updated_at = now()
           where c.user_id = $1 and c.metric = '${METRIC}' and (c.quota = -1 or c.used + 1 <= c.quota)
           returning c.user_id, c.metric, c.period_start)
         insert into tollgate_private.usage_events (user_id, metric, amount, allowed, period_start)
         select c.user_id, c.metric, 1, true, c.period_start from c`,
        id,
      ),
    },
    {
      name: 'E apply_usage (counter, no ledger)',
      url: (d) => d.ownerUrl,
      make: statement(`select tollgate_private.apply_usage($1, '${METRIC}', 1, now())`, id),
    },
    {
      name: 'F record_usage (counter + ledger)',
      url: (d) => d.ownerUrl,
      make: statement(`select tollgate_private.record_usage($1, '${METRIC}', 1, null, now())`, id),
    },
    {
      name: 'G tollgate_private.consume_usage',
      url: (d) => d.ownerUrl,
      make: statement(`select tollgate_private.consume_usage($1, '${METRIC}', 1, null, now())`, id),
    },
    {
      name: 'H the RPC (benchmark figure 2)',
      url: (d) => d.apiUrl,
      make: (c) => consumeCall(c, user),
    },
    {
      name: 'I the RPC as one simple-protocol query string',
      url: (d) => d.apiUrl,
      make: (c) => async () => {
        const literal = user().claims.replaceAll("'", "''")
        const [, , rows] = (await c.unsafe(
          `${STATEMENTS.begin}; select pg_catalog.set_config('role', 'authenticated', true), ` +
            `pg_catalog.set_config('request.jwt.claims', '${literal}', true); ` +
            `select tollgate.consume_usage('${METRIC}', 1) as answer; commit`,
        )) as unknown as { answer: { allowed: boolean } }[][]
        return rows?.[0]?.answer.allowed === true
      },
    },
  ]
}

const measureVariants = async (db: BenchDatabase): Promise<void> => {
  print(`${'variant'.padEnd(48)} | @1 ${CELL_HEAD} | @8 ${CELL_HEAD}`)
  for (const variant of variants(db)) {
    const one = await measure(db, variant.url(db), 1, variant.make)
    const eight = await measure(db, variant.url(db), 8, variant.make)
    print(`${variant.name.padEnd(48)} |    ${cells(one)} |    ${cells(eight)}`)
  }
}

const pgCtl = (cluster: Cluster, args: string[]): void => {
  const bin = join(process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin', 'pg_ctl')
  const full = ['-D', cluster.dataDir, '-l', join(dirname(cluster.dataDir), 'pg.log'), ...args]
  const [file, argv] =
    process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', bin, ...full]] : [bin, full]
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG')))
  const result = spawnSync(file, argv, { cwd: '/', env, stdio: 'ignore' })
  if (result.status !== 0) throw new Error(`pg_ctl ${args.join(' ')} failed`)
}

// pg_ctl restart keeps the options the cluster was started with (postmaster.opts).
const restart = (cluster: Cluster): void =>
  pgCtl(cluster, ['-w', '-t', '60', '-m', 'fast', 'restart'])

// Time per function (self and total) and per statement, for one window of the RPC @8.
const breakdown = async (db: BenchDatabase): Promise<void> => {
  await onConnection(db.superUrl, async (sql) => {
    await sql`alter system set shared_preload_libraries = 'pg_stat_statements'`
    await sql`alter system set track_functions = 'all'`
  })
  restart(db.cluster)
  await onConnection(db.superUrl, async (sql) => {
    // Known only once the library is loaded.
    await sql`alter system set pg_stat_statements.track = 'all'`
    await sql`select pg_catalog.pg_reload_conf()`
    await sql`create extension if not exists pg_stat_statements schema extensions`
  })
  const opened = await openConnections(db.apiUrl, 8)
  const make = (c: Connection) => consumeCall(c, () => pick(db.users))
  await runPhase(opened.list.map(make), WARMUP_MS)
  await onConnection(db.superUrl, async (sql) => {
    await sql`select extensions.pg_stat_statements_reset()`
    await sql`select pg_stat_reset()`
    await sql`select pg_stat_reset_shared('wal')`
  })
  const stats = toFigure(await runPhase(opened.list.map(make), MEASURE_MS))
  await opened.end()
  print(
    `\nRPC @8 with pg_stat_statements (track all) and track_functions = all: ${stats.calls} calls`,
  )
  await onConnection(db.superUrl, async (sql) => {
    await sql`select pg_sleep(0.6)` // backends flush their counters at most every 500 ms
    const functions = await sql<{ name: string; calls: string; total: number; self: number }[]>`
      select schemaname || '.' || funcname as name, calls, total_time as total, self_time as self
      from pg_catalog.pg_stat_user_functions
      where funcname not like 'pg_stat%'
      order by self_time desc`
    print('\nfunction                                      calls  total us/call  self us/call')
    for (const f of functions) {
      const calls = Number(f.calls)
      print(
        `${f.name.padEnd(44)} ${String(calls).padStart(6)} ${((f.total * 1000) / calls).toFixed(1).padStart(14)} ${((f.self * 1000) / calls).toFixed(1).padStart(13)}`,
      )
    }
    const statements = await sql<{ query: string; calls: string; mean: number }[]>`
      select regexp_replace(query, '\\s+', ' ', 'g') as query, calls, mean_exec_time as mean
      from extensions.pg_stat_statements
      where dbid = (select oid from pg_catalog.pg_database where datname = current_database())
        and calls > 100
      order by total_exec_time desc`
    print(
      '\nstatement (run > 100 times, by total time)                                     calls  mean us',
    )
    for (const s of statements) {
      print(
        `${s.query.slice(0, 78).padEnd(78)} ${String(s.calls).padStart(6)} ${(s.mean * 1000).toFixed(1).padStart(8)}`,
      )
    }
    const tables = await sql<{ name: string; upd: string; hot: string; ins: string }[]>`
      select schemaname || '.' || relname as name, n_tup_upd as upd, n_tup_hot_upd as hot,
        n_tup_ins as ins
      from pg_catalog.pg_stat_all_tables
      where n_tup_upd + n_tup_ins > 0 and schemaname not in ('pg_catalog', 'pg_toast')`
    print('\ntable                                  inserts  updates  of which HOT')
    for (const t of tables) {
      print(`${t.name.padEnd(38)} ${t.ins.padStart(8)} ${t.upd.padStart(8)} ${t.hot.padStart(13)}`)
    }
    const [w] = await sql<{ wal_records: string; wal_bytes: string; wal_fpi: string }[]>`
      select wal_records, wal_fpi, wal_bytes from pg_catalog.pg_stat_wal`
    if (w) {
      print(
        `\nWAL per call: ${(Number(w.wal_records) / stats.calls).toFixed(1)} records, ` +
          `${(Number(w.wal_bytes) / stats.calls).toFixed(0)} bytes, ` +
          `${(Number(w.wal_fpi) / stats.calls).toFixed(2)} full-page images`,
      )
    }
    await sql`alter system reset pg_stat_statements.track`
    await sql`alter system reset shared_preload_libraries`
    await sql`alter system reset track_functions`
  })
  restart(db.cluster)
}

const PERF_WANTED = new Set([
  'exec_simple_query',
  'exec_bind_message',
  'exec_execute_message',
  'finish_xact_command',
  'CommitTransaction',
  'XLogFlush',
  'plpgsql_exec_function',
  'fmgr_sql',
  'fmgr_security_definer',
  'init_sql_fcache',
  'pg_plan_queries',
  'pg_parse_query',
  'pg_analyze_and_rewrite_fixedparams',
  'pg_analyze_and_rewrite_withcb',
  'ExecInsert',
  'ExecUpdate',
  'RI_FKey_check_ins',
  'heap_lock_tuple',
  'ExecInsertIndexTuples',
  'set_config_option',
  'NewGUCNestLevel',
  'AtEOXact_GUC',
  'jsonb_in',
  'GetCachedPlan',
  'jit_compile_expr',
])

// perf samples of the bench backends while the RPC runs @8 (needs `perf`).
const perfProfile = async (db: BenchDatabase): Promise<void> => {
  const opened = await openConnections(db.apiUrl, 8)
  const make = (c: Connection) => consumeCall(c, () => pick(db.users))
  await runPhase(opened.list.map(make), WARMUP_MS)
  const pids = await onConnection(db.superUrl, async (sql) => {
    const rows = await sql<{ pid: number }[]>`
      select pid from pg_catalog.pg_stat_activity where usename = 'authenticator'`
    return rows.map((r) => r.pid)
  })
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-perf-'))
  const data = join(dir, 'perf.data')
  const recording = runPhase(opened.list.map(make), MEASURE_MS)
  // Asynchronous: the loops must keep running while perf records.
  const seconds = String(MEASURE_MS / 1000 - 0.5)
  const args = [
    'record',
    '-F',
    '1999',
    '-g',
    '-o',
    data,
    '-p',
    pids.join(','),
    '--',
    'sleep',
    seconds,
  ]
  await new Promise<void>((resolve, reject) => {
    const child = spawn('perf', args, { stdio: 'ignore' })
    child.on('error', reject)
    child.on('exit', () => resolve())
  })
  await recording
  await opened.end()
  const report = (extra: string[]): string[] =>
    spawnSync(
      'perf',
      ['report', '-i', data, '--stdio', '-g', 'none', '--sort', 'symbol', ...extra],
      {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      },
    )
      .stdout.split('\n')
      .filter((line) => line.trim() && !line.startsWith('#'))
  print('\nperf, RPC @8, backends only, self time by symbol (top 30):')
  for (const line of report(['--no-children']).slice(0, 30)) print(line.trimEnd())
  print('\nperf, RPC @8, inclusive time of selected functions:')
  for (const line of report(['--children'])) {
    const name = /\[[.k]\]\s+(\S+)/.exec(line)?.[1]
    if (name && PERF_WANTED.has(name)) print(line.trimEnd())
  }
  rmSync(dir, { recursive: true, force: true })
}

// consume_usage_of_caller with a fast path: when the counter is current, one statement counts and
// (withLedger) writes the ledger row, or one lockless read refuses; anything else (missing or
// ended counter, keyed call, bad input) goes down the existing path, which raises the errors.
const fastPath = (withLedger: boolean): string => `
  create or replace function tollgate_private.consume_usage_of_caller(metric text, amount bigint, idempotency_key text)
  returns jsonb language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    v_user_id uuid := tollgate_private.caller_id();
    v_now timestamptz := now();
    v_answer jsonb;
  begin
    if v_user_id is null then
      raise exception 'Sign in to consume usage' using errcode = 'NOJWT';
    end if;
    if consume_usage_of_caller.idempotency_key is null and consume_usage_of_caller.amount > 0 then
      with counted as (
        update tollgate_private.usage_counters c
        set used = c.used + consume_usage_of_caller.amount, updated_at = v_now
        where c.user_id = v_user_id and c.metric = consume_usage_of_caller.metric
          and (c.period_end is null or c.period_end > v_now)
          and (c.valid_until is null or c.valid_until > v_now)
          and (c.quota = -1 or c.used + consume_usage_of_caller.amount <= c.quota)
        returning c.*
      )${
        withLedger
          ? `, ledger as (
        insert into tollgate_private.usage_events (user_id, metric, amount, allowed, period_start)
        select counted.user_id, counted.metric, consume_usage_of_caller.amount, true, counted.period_start
        from counted
      )`
          : ''
      }
      select jsonb_build_object('allowed', true, 'metric', counted.metric, 'used', counted.used,
        'quota', counted.quota,
        'remaining', case when counted.quota = -1 then null else greatest(counted.quota - counted.used, 0) end,
        'period_end', counted.period_end)
      into v_answer
      from counted;
      if v_answer is not null then
        return v_answer;
      end if;
      -- REFUSAL without a lock and without the slow path when the counter is current and full.
      select jsonb_build_object('allowed', false, 'metric', c.metric, 'used', c.used, 'quota', c.quota,
        'remaining', greatest(c.quota - c.used, 0), 'period_end', c.period_end)
      into v_answer
      from tollgate_private.usage_counters c
      where c.user_id = v_user_id and c.metric = consume_usage_of_caller.metric
        and (c.period_end is null or c.period_end > v_now)
        and (c.valid_until is null or c.valid_until > v_now)
        and c.quota <> -1 and c.used + consume_usage_of_caller.amount > c.quota;
      if v_answer is not null then
        return v_answer;
      end if;
    end if;
    return tollgate_private.consume_usage(v_user_id, consume_usage_of_caller.metric,
      consume_usage_of_caller.amount, consume_usage_of_caller.idempotency_key, v_now);
  end;
  $$`

// SQL changes tried on the throwaway database, cumulative, each followed by the same figures.
const EXPERIMENTS: { name: string; sql: string[] }[] = [
  {
    name: "usage_of_caller: the user branch runs usage_rows' body itself (plan cached)",
    sql: [
      `create or replace function tollgate_private.usage_of_caller()
       returns table (user_id uuid, metric text, period text, period_start timestamptz,
         period_end timestamptz, used bigint, quota bigint, remaining bigint)
       language plpgsql stable security definer set search_path = ''
       as $$
       declare
         v_user_id uuid := tollgate_private.caller_id();
         v_now timestamptz := now();
       begin
         if tollgate_private.is_admin()
           or nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role' = 'service_role' then
           return query select r.* from auth.users u
             cross join lateral tollgate_private.usage_rows(u.id, v_now) r;
         elsif v_user_id is not null then
           return query
             select v_user_id, l.metric, n.period, n.period_start, n.period_end, n.used, n.quota,
               case when n.quota = -1 then null else greatest(n.quota - n.used, 0) end
             from tollgate_private.entitlement(v_user_id, v_now) e
             join tollgate.plan_limits l on l.plan_id = e.plan_id
             left join tollgate_private.usage_counters c
               on c.user_id = v_user_id and c.metric = l.metric
             cross join lateral tollgate_private.next_counter_state(
               c, v_user_id, l.metric, e.plan_id, l.quota, l.period, l.carry_over, e.anchor,
               e.valid_until, v_now) n
             order by l.metric;
         end if;
       end;
       $$`,
    ],
  },
  {
    name: 'ledger: no foreign key to auth.users (no FOR KEY SHARE per call)',
    sql: ['alter table tollgate_private.usage_events drop constraint usage_events_user_id_fkey'],
  },
  {
    name: 'ledger: without usage_events_user_id_created_at_idx',
    sql: ['drop index tollgate_private.usage_events_user_id_created_at_idx'],
  },
  {
    name: 'fast path in consume_usage_of_caller: one update+insert statement; lockless refusal',
    sql: [fastPath(true)],
  },
  {
    name: 'fast path without a ledger row for unkeyed calls (design change: the ledger cost)',
    sql: [fastPath(false)],
  },
]

const experiments = async (db: BenchDatabase): Promise<void> => {
  const rpc = (c: Connection) => consumeCall(c, () => pick(db.users))
  const hot = (c: Connection) => consumeCall(c, () => db.special.hotWarm)
  const read = (c: Connection) => usageCall(c, () => pick(db.users), 3)
  print(
    `\n${'(cumulative)'.padEnd(72)} | RPC @1: p50 srvus | RPC @8: tps srvus clius | hot @32: tps | read @1: p50 srvus | read @8: p50 p99`,
  )
  const hotCeiling = await measure(db, db.ownerUrl, 32, (c) => ceilingCall(c, CEILING_WARM_KEY))
  const ceiling8 = await measure(db, db.ownerUrl, 8, (c) => ceilingCall(c, null))
  print(
    `${'ceiling (reference)'.padEnd(72)} | ${''.padStart(17)} | ${ceiling8.tps.toFixed(0).padStart(11)} ${ceiling8.serverUs.toFixed(0).padStart(5)} ${ceiling8.clientUs.toFixed(0).padStart(5)} | ${hotCeiling.tps.toFixed(0).padStart(12)} |`,
  )
  const line = async (label: string): Promise<void> => {
    const r1 = await measure(db, db.apiUrl, 1, rpc)
    const r8 = await measure(db, db.apiUrl, 8, rpc)
    const h = await measure(db, db.apiUrl, 32, hot)
    const q1 = await measure(db, db.apiUrl, 1, read)
    const q8 = await measure(db, db.apiUrl, 8, read)
    print(
      `${label.slice(0, 72).padEnd(72)} | ${r1.p50Ms.toFixed(2).padStart(11)} ${r1.serverUs.toFixed(0).padStart(5)} | ` +
        `${r8.tps.toFixed(0).padStart(11)} ${r8.serverUs.toFixed(0).padStart(5)} ${r8.clientUs.toFixed(0).padStart(5)} | ` +
        `${h.tps.toFixed(0).padStart(12)} | ${q1.p50Ms.toFixed(2).padStart(12)} ${q1.serverUs.toFixed(0).padStart(5)} | ` +
        `${q8.p50Ms.toFixed(2).padStart(11)} ${q8.p99Ms.toFixed(2).padStart(5)}`,
    )
  }
  await line('as in the migration')
  for (const experiment of EXPERIMENTS) {
    await onConnection(db.superUrl, async (sql) => {
      for (const text of experiment.sql) await sql.unsafe(text)
      await sql`checkpoint`
    })
    await line(`+ ${experiment.name}`)
  }
}

const explainUsage = async (db: BenchDatabase): Promise<void> => {
  const user = db.users[0]
  if (!user) return
  const sql = postgres(db.superUrl, { max: 1, onnotice: (notice) => print(`  ${notice.message}`) })
  await sql.begin(async (tx) => {
    await tx`load 'auto_explain'`
    await tx`set local auto_explain.log_nested_statements = on`
    await tx`set local auto_explain.log_analyze = on`
    await tx`set local auto_explain.log_level = notice`
    await tx`set local client_min_messages = notice`
    await tx.unsafe(STATEMENTS.claims, [user.claims])
    for (let i = 0; i < 2; i++) await tx.unsafe('select * from tollgate.usage')
    // Back to the superuser (session user) to switch the logging on, then as the user again.
    await tx`reset role`
    await tx`set local auto_explain.log_min_duration = 0`
    await tx.unsafe(STATEMENTS.claims, [user.claims])
    print('\nusage view, 3rd call in a session, nested plans (auto_explain):')
    await tx.unsafe('select * from tollgate.usage')
  })
  await sql.end()
}

const main = async (): Promise<void> => {
  const withPerf = process.argv.includes('--perf')
  const db = await createBenchDatabase((line) => print(`  ${line}`))
  try {
    await onConnection(db.ownerUrl, async (sql) => {
      await sql`grant select, update on public.bench_ceiling to authenticated`
    })
    print(
      `setup ${db.setupSeconds.toFixed(1)} s; ${MEASURE_MS / 1000} s windows after ${WARMUP_MS / 1000} s warm-up; ` +
        'srvus/clius = server/client CPU microseconds per call\n',
    )
    await measureVariants(db)
    await explainUsage(db)
    await breakdown(db)
    if (withPerf) await perfProfile(db)
    await experiments(db)
  } finally {
    await db.stop()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  process.exitCode = 1
})
