import { mkdtempSync, rmSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { insertUsers, METRIC, type BenchUser } from '../database.ts'
import { toFigure, type Figure } from '../measure.ts'
import type { Session } from '../session.ts'
import { type Child, startChild } from '../webhook-processes.ts'
import { consumeCall, pick } from '../workloads.ts'

/** Users the metering figure picks from, each with one API key. */
export const METER_USERS = 200

/** The same consume through the RPC (as PostgREST runs it) and through `metering` over HTTP. */
export type MeteringRow = {
  connections: number
  rpc: Figure
  metering: Figure
  /** Metering calls per second / RPC calls per second. */
  ratio: number
}

export type MeteringFigures = MeteringRow[]

// A plan whose hourly requests and monthly calls no run uses up, so every call is allowed.
const PLAN = `
  insert into tollgate.plans (id, name, amount, active) values ('bench_meter', 'Bench: metering', 0, false);
  insert into tollgate.plan_limits (plan_id, metric, quota, period) values
    ('bench_meter', 'api_calls', 1000000000000, 'month'),
    ('bench_meter', 'requests', 1000000000000, 'hour'),
    ('bench_meter', 'api_keys', -1, 'never');
`

type KeyedUser = BenchUser & { key: string }

/** Users on bench_meter, each with a key made by tollgate.create_api_key as that user. */
const setUp = async (session: Session): Promise<KeyedUser[]> => {
  const sql = session.ownerSql
  await sql.unsafe(PLAN)
  const users = await insertUsers(sql, 'bench-meter-', METER_USERS)
  const keyed: KeyedUser[] = []
  for (const user of users) {
    const key = await sql.begin(async (tx) => {
      await tx`
        insert into tollgate.subscriptions (user_id, plan_id, status, provider, current_period_start, current_period_end)
        values (${user.id}::uuid, 'bench_meter', 'active', 'internal', now(), now() + interval '30 days')`
      await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${user.claims}, true)`
      const [row] = await tx<{ made: { key: string } }[]>`select tollgate.create_api_key('bench') as made`
      return row?.made.key
    })
    if (!key) throw new Error(`no key for ${user.id}`)
    keyed.push({ ...user, key })
  }
  // Steady state, as for the other figures: this hour's request counters exist.
  await sql`select tollgate_private.sync_usage_counters(u.id, now()) from auth.users u where u.email like 'bench-meter-%'`
  return keyed
}

const BODY = JSON.stringify({ metric: METRIC, amount: 1 })

// One POST /metering/consume on a keep-alive socket of `agent`; true when allowed.
const post = (agent: Agent, target: URL, key: string): Promise<boolean> =>
  new Promise((resolve, reject) => {
    const outgoing = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: { 'x-api-key': key, 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) },
      },
      (incoming) => {
        const chunks: Buffer[] = []
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
        incoming.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          if (incoming.statusCode !== 200 || !incoming.headers['x-ratelimit-remaining']) {
            reject(new Error(`metering answered ${incoming.statusCode}: ${text.slice(0, 200)}`))
            return
          }
          resolve((JSON.parse(text) as { allowed: boolean }).allowed)
        })
        incoming.on('error', reject)
      },
    )
    outgoing.on('error', reject)
    outgoing.end(BODY)
  })

/**
 * 8: one consume of api_calls through the `metering` function over HTTP (an API key; the key
 * check, the hourly request count and the consume in one statement), against the same consume as
 * PostgREST runs `POST /rpc/consume_usage`, at 8 and 32 clients, in turns (issue 16). The function
 * runs in its own Node process as the local stack serves it (its pool: 5 connections).
 */
export const measureMetering = async (session: Session): Promise<MeteringFigures> => {
  const { database } = session
  const users = await setUp(session)
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-metering-'))
  let server: Child | undefined
  try {
    server = await startChild({ start: 'server', bindings: { DATABASE_URL: database.ownerUrl } }, dir)
    const target = new URL(`${server.url}/functions/v1/metering/consume`)
    const rows: MeteringFigures = []
    for (const connections of [8, 32]) {
      const agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections })
      try {
        const [rpc, metering] = (
          await session.inTurns(
            [
              {
                label: `consume_usage RPC (framed) @${connections}`,
                url: database.apiUrl,
                make: (connection) => consumeCall(connection, () => pick(users)),
              },
              {
                label: `POST /metering/consume over HTTP @${connections}`,
                url: database.apiUrl,
                make: () => async () => {
                  const user = pick(users)
                  return post(agent, target, user.key)
                },
              },
            ],
            connections,
          )
        ).map(toFigure)
        if (!rpc || !metering) throw new Error('a metering figure is missing')
        rows.push({ connections, rpc, metering, ratio: metering.tps / rpc.tps })
        session.check(
          `metering @${connections}: every call answered 200 with the rate headers and allowed`,
          metering.refused === 0 && rpc.refused === 0,
          `${metering.refused} of ${metering.calls} metering calls, ${rpc.refused} RPC calls refused`,
        )
      } finally {
        agent.destroy()
      }
    }
    // Each metering call counted one request and one api_call of its user, and nothing else.
    const [ledger] = await session.ownerSql<{ requests: string; calls: string; counted: string }[]>`
      select
        (select coalesce(sum(c.used), 0) from tollgate_private.usage_counters c
          join auth.users u on u.id = c.user_id
          where u.email like 'bench-meter-%' and c.metric = 'requests')::text as requests,
        (select count(*) from tollgate_private.usage_events e
          join auth.users u on u.id = e.user_id
          where u.email like 'bench-meter-%' and e.metric = 'requests')::text as calls,
        (select coalesce(sum(c.used), 0) from tollgate_private.usage_counters c
          join auth.users u on u.id = c.user_id
          where u.email like 'bench-meter-%' and c.metric = ${METRIC})::text as counted`
    session.check(
      'metering: the requests counters equal their ledger rows',
      ledger?.requests === ledger?.calls,
      `counters ${ledger?.requests}, ledger ${ledger?.calls} (api_calls counted ${ledger?.counted})`,
    )
    return rows
  } finally {
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
