import { afterAll, describe, expect, it } from 'vitest'
import { ownerSql, type Queryable } from '../../helpers/db.ts'
import {
  beginSession,
  consumeAt,
  counterOf,
  ledgerOf,
  taggedPool,
  testUsers,
  waitUntilBlocked,
} from './support.ts'

const sql = ownerSql()
const workers = taggedPool()
const users = testUsers(sql)
afterAll(async () => {
  await users.drop()
  await workers.sql.end()
  await sql.end()
})

const FEB = '2024-02-10T12:00:00Z'

/** The locks a backend is waiting for, as pg_locks shows them. */
const awaitedLocks = async (pid: number): Promise<string[]> => {
  const rows = await sql<{ locktype: string }[]>`
    select locktype from pg_catalog.pg_locks where pid = ${pid} and not granted`
  return rows.map((row) => row.locktype)
}

const releaseAt = async (q: Queryable, userId: string, metric: string, amount: number) => {
  const [row] = await q<{ answer: { allowed: boolean; used: number } }[]>`
    select tollgate_private.release_usage(
      ${userId}::uuid, ${metric}, ${amount}::bigint, null, ${FEB}::text::timestamptz) as answer`
  if (!row) throw new Error('release_usage returned no row')
  return row.answer
}

describe('consumers of one counter', () => {
  it('queue on the counter advisory lock, not on its row', async () => {
    const user = await users.create()
    await consumeAt(sql, user.id, 'api_calls', 1, FEB)
    const a = await beginSession(workers.sql)
    const b = await beginSession(workers.sql)
    expect(await consumeAt(a.q, user.id, 'api_calls', 1, FEB)).toMatchObject({ used: 2 })
    const second = consumeAt(b.q, user.id, 'api_calls', 1, FEB)
    await waitUntilBlocked(sql, b.pid)
    // Waiting on the row would show a transactionid (or tuple) lock here.
    expect(await awaitedLocks(b.pid)).toEqual(['advisory'])
    await a.end('commit')
    expect(await second).toMatchObject({ allowed: true, used: 3 })
    await b.end('commit')
    expect(await counterOf(sql, user.id, 'api_calls')).toMatchObject({ used: 3 })
  })

  it('refuse at a full quota without queueing behind a consumer holding the lock', async () => {
    const user = await users.create()
    await consumeAt(sql, user.id, 'api_calls', 1000, FEB)
    const a = await beginSession(workers.sql)
    // A refused call still took the lock and keeps it until its transaction ends.
    expect(await consumeAt(a.q, user.id, 'api_calls', 1, FEB)).toMatchObject({ allowed: false })
    const [held] = await sql<{ n: number }[]>`
      select count(*)::int as n from pg_catalog.pg_locks
      where pid = ${a.pid} and locktype = 'advisory' and granted`
    expect(held?.n).toBe(1)
    // B answers while A is still open: refusals never wait.
    const b = await beginSession(workers.sql)
    expect(await consumeAt(b.q, user.id, 'api_calls', 1, FEB)).toMatchObject({
      allowed: false,
      used: 1000,
      remaining: 0,
    })
    await b.end('commit')
    await a.end('commit')
  })

  it('do not deadlock with a transaction that wrote the counter another way first', async () => {
    // A releases a gauge (a row lock without the advisory lock, as a plan change's sync takes),
    // B queues for the counter and waits on A's row, then A consumes the same counter: waiting for
    // B's lock would be a deadlock (40P01 after deadlock_timeout). A goes on: it holds the row.
    const user = await users.create()
    await consumeAt(sql, user.id, 'projects', 2, FEB)
    const a = await beginSession(workers.sql)
    const b = await beginSession(workers.sql)
    expect(await releaseAt(a.q, user.id, 'projects', 1)).toMatchObject({ allowed: true, used: 1 })
    const second = consumeAt(b.q, user.id, 'projects', 1, FEB)
    await waitUntilBlocked(sql, b.pid)
    expect(await consumeAt(a.q, user.id, 'projects', 1, FEB)).toMatchObject({
      allowed: true,
      used: 2,
    })
    await a.end('commit')
    expect(await second).toMatchObject({ allowed: true, used: 3, remaining: 0 })
    await b.end('commit')
    expect(await counterOf(sql, user.id, 'projects')).toMatchObject({ used: 3, quota: 3 })
    expect((await ledgerOf(sql, user.id)).map((row) => row.amount)).toEqual([2, -1, 1, 1])
  })
})
