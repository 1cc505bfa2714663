// Postgres time per webhook event, without HTTP (issue 17): the benchmark's stream applied with
// tollgate_private.apply_stripe_event on ONE connection, one event at a time, after a warm-up of
// WARM events; then the same events again (duplicates). Prints the wall time per event by type
// (Postgres plus one local round trip) and pg_stat_user_functions' self time per function for
// the measured events only (track_functions = all, reset after the warm-up).
// npx tsx bench/profile-apply.ts   (WARM=<events>, COUNT=<events>, defaults 6000 and 3000)
import postgres from 'postgres'
import { createSchemaDatabase } from './lib/database.ts'
import { createWebhookStream } from './lib/webhook-stream.ts'
import { insertWebhookUsers, WEBHOOK_USERS } from './lib/webhooks.ts'

const WARM = Number(process.env.WARM ?? 6000)
const COUNT = Number(process.env.COUNT ?? 3000)

const database = await createSchemaDatabase()
try {
  const sup = postgres(database.superUrl, { onnotice: () => {}, max: 1 })
  const sql = postgres(database.ownerUrl, { onnotice: () => {}, max: 1 })
  const users = await insertWebhookUsers(sup, WEBHOOK_USERS)
  // EXPERIMENT='<sql>': run as a superuser before the events (what-ifs).
  if (process.env.EXPERIMENT) await sup.unsafe(process.env.EXPERIMENT)
  const stream = createWebhookStream(users, WARM + COUNT)
  // The subscription a checkout's webhook fetches from Stripe, by subscription id.
  const userOfSubscription = new Map(
    users.map((_, user) => [stream.stripeIds(user).subscriptionId, user]),
  )
  const relatedOf = (body: string): string | null => {
    const event = JSON.parse(body) as { type: string; data: { object: { subscription?: string } } }
    if (event.type !== 'checkout.session.completed') return null
    const user = userOfSubscription.get(String(event.data.object.subscription))
    return user === undefined ? null : JSON.stringify({ subscription: stream.initialSubscription(user) })
  }
  const apply = (body: string, related: string | null) =>
    sql`select tollgate_private.apply_stripe_event(${body}::text::jsonb, ${related}::text::jsonb) as r`
  const events = Array.from({ length: WARM + COUNT }, (_, k) => stream.build(k))
  for (const event of events.slice(0, WARM)) await apply(event.body, relatedOf(event.body))
  await sup.unsafe(`alter system set track_functions = 'all'`)
  await sup`select pg_reload_conf()`
  await sup`vacuum analyze`
  await sup`select pg_stat_reset()`

  await sup`create extension if not exists pg_walinspect`
  const phase = async (name: string) => {
    const [{ lsn: startLsn }] = await sup`select pg_current_wal_insert_lsn() as lsn`
    const byType = new Map<string, { n: number; ns: bigint }>()
    const measured = events.slice(WARM)
    const related = measured.map((event) => relatedOf(event.body))
    const started = process.hrtime.bigint()
    for (const [k, event] of measured.entries()) {
      const t = process.hrtime.bigint()
      await apply(event.body, related[k] ?? null)
      const entry = byType.get(event.type) ?? { n: 0, ns: 0n }
      entry.n += 1
      entry.ns += process.hrtime.bigint() - t
      byType.set(event.type, entry)
    }
    const total = Number(process.hrtime.bigint() - started) / 1000 / measured.length
    console.log(`${name}: ${measured.length} events, ${total.toFixed(0)} us per event (wall, one connection)`)
    for (const [type, { n, ns }] of byType) {
      console.log(`  ${type.padEnd(40)} ${String(n).padStart(6)} ${(Number(ns) / 1000 / n).toFixed(0).padStart(7)} us`)
    }
    // WAL written per event (every commit waits for it to be flushed): by resource manager, with
    // the full-page images in it.
    const [{ lsn: endLsn }] = await sup`select pg_current_wal_insert_lsn() as lsn`
    const wal = await sup`
      select "resource_manager/record_type" as rm, sum(count)::bigint as records, sum(combined_size)::bigint as bytes,
        sum(fpi_size)::bigint as fpi
      from pg_get_wal_stats(${startLsn}::pg_lsn, ${endLsn}::pg_lsn, true)
      group by 1 having sum(combined_size) > 0 order by 3 desc`
    const walTotal = wal.reduce((sum, r) => sum + Number(r.bytes), 0)
    console.log(`  WAL: ${(walTotal / measured.length).toFixed(0)} bytes per event (records, bytes, of them full-page images):`)
    if (process.env.WALDETAIL) {
      // WALDETAIL=1: records by type and the relation of their first block.
      const detail = await sup`
        select w.resource_manager || '/' || w.record_type as rt,
          coalesce(c.relname, substring(w.block_ref from 'rel [0-9]+/[0-9]+/([0-9]+)')) as rel,
          count(*) as records, sum(w.record_length + w.fpi_length) as bytes
        from pg_get_wal_records_info(${startLsn}::pg_lsn, ${endLsn}::pg_lsn) w
        left join pg_class c
          on c.relfilenode::text = substring(w.block_ref from 'rel [0-9]+/[0-9]+/([0-9]+)')
        group by 1, 2 order by 3 desc limit 30`
      for (const r of detail) {
        console.log(`      ${String(r.rt).padEnd(24)} ${String(r.rel).padEnd(44)} ${(Number(r.records) / measured.length).toFixed(2).padStart(6)} ${(Number(r.bytes) / measured.length).toFixed(0).padStart(6)}`)
      }
    }
    for (const r of wal.slice(0, 12)) {
      console.log(`    ${String(r.rm).padEnd(20)} ${(Number(r.records) / measured.length).toFixed(2).padStart(7)} ${(Number(r.bytes) / measured.length).toFixed(0).padStart(7)} ${(Number(r.fpi) / measured.length).toFixed(0).padStart(7)}`)
    }
  }
  await phase('first deliveries')
  const rows = await sup`
    select schemaname || '.' || funcname as fn, calls, round(self_time::numeric, 1) as self_ms
    from pg_stat_user_functions order by self_time desc limit 30`
  console.log(`self time per function, first deliveries (us per measured event, calls per event):`)
  for (const r of rows) {
    console.log(`  ${String(r.fn).padEnd(58)} ${((Number(r.self_ms) * 1000) / COUNT).toFixed(1).padStart(7)} ${(Number(r.calls) / COUNT).toFixed(2).padStart(6)}`)
  }
  const tables = await sup`
    select relname, n_tup_ins, n_tup_upd, n_tup_hot_upd from pg_stat_user_tables
    where n_tup_ins + n_tup_upd > 0 order by n_tup_ins + n_tup_upd desc`
  console.log('rows written per measured event (inserted, updated, of them HOT):')
  for (const t of tables) {
    console.log(`  ${String(t.relname).padEnd(40)} ${(Number(t.n_tup_ins) / COUNT).toFixed(2).padStart(6)} ${(Number(t.n_tup_upd) / COUNT).toFixed(2).padStart(6)} ${(Number(t.n_tup_hot_upd) / COUNT).toFixed(2).padStart(6)}`)
  }
  await phase('duplicates')
  await sql.end()
  await sup.end()
} finally {
  await database.stop()
}
