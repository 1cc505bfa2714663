// Where Postgres spends its time on webhook deliveries (issue 17): track_functions = all on a
// fresh bench database, the quick webhook figure, then pg_stat_user_functions by self time.
// npx tsx bench/profile-functions.ts   (MS=<measured ms per window>, default 4000)
import postgres from 'postgres'
import { createBenchDatabase } from './lib/database.ts'
import { webhookBench } from './lib/webhooks.ts'
const database = await createBenchDatabase(() => {})
try {
  const sup = postgres(database.superUrl, { onnotice: () => {} })
  await sup.unsafe(`alter system set track_functions = 'all'`)
  await sup`select pg_reload_conf()`
  await sup`select pg_stat_reset()`
  const result = await webhookBench({ database, quick: true, warmupMs: 500, measureMs: Number(process.env.MS ?? 4000), log: () => {} })
  const [{ n }] = await sup`select count(*)::int as n from tollgate_private.webhook_events`
  const rows = await sup`
    select schemaname || '.' || funcname as fn, calls, round(self_time::numeric, 1) as self_ms, round(total_time::numeric, 1) as total_ms
    from pg_stat_user_functions order by self_time desc limit 25`
  console.log(`events in the ledger: ${n}; applied once: ${result.appliedOnce}`)
  console.log('function'.padEnd(60), 'calls'.padStart(8), 'self ms'.padStart(10), 'total ms'.padStart(10))
  for (const r of rows) console.log(String(r.fn).padEnd(60), String(r.calls).padStart(8), String(r.self_ms).padStart(10), String(r.total_ms).padStart(10), (Number(r.self_ms) * 1000 / Number(r.calls)).toFixed(0).padStart(6), 'us self/call')
  await sup.end()
} finally { await database.stop() }
