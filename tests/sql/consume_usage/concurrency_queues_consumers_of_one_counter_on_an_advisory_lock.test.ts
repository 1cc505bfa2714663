import { afterAll, describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { type Queryable, type TestUser, type Sql } from '../../helpers/db.ts'
import {
  beginSession,
  consumeAt,
  consumeNow,
  counterOf,
  ledgerOf,
  taggedPool,
  waitUntilBlocked,
  type Session,
} from './support.ts'

const workers = taggedPool()
afterAll(() => workers.sql.end())

// The private functions take a moment; 'now' is the transaction's, as the public RPC uses.
const NOW = 'now'

/** The locks a backend is waiting for, as pg_locks shows them. */
const awaitedLocks = async (sql: Sql, pid: number): Promise<string[]> => {
  const rows = await sql<{ locktype: string }[]>`
    select locktype from pg_catalog.pg_locks where pid = ${pid} and not granted`
  return rows.map((row) => row.locktype)
}

const advisoryLocksHeld = async (sql: Sql, pid: number): Promise<number> => {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from pg_catalog.pg_locks
    where pid = ${pid} and locktype = 'advisory' and granted`
  return row?.n ?? 0
}

/** The rest of the session's transaction runs as PostgREST runs a signed-in user's request. */
const signIn = async (session: Session, user: TestUser): Promise<void> => {
  await session.q`
    select pg_catalog.set_config('role', 'authenticated', true),
      pg_catalog.set_config('request.jwt.claims', ${JSON.stringify(user.claims)}, true)`
}

const signedInSession = async (user: TestUser): Promise<Session> => {
  const session = await beginSession(workers.sql)
  await signIn(session, user)
  return session
}

const releaseNow = async (q: Queryable, userId: string, metric: string, amount: number) => {
  const [row] = await q<{ answer: { allowed: boolean; used: number } }[]>`
    select tollgate_private.release_usage(${userId}::uuid, ${metric}, ${amount}::bigint, null, now())
      as answer`
  if (!row) throw new Error('release_usage returned no row')
  return row.answer
}

describe('signed-in consumers of one counter', () => {
  it('queue on the counter advisory lock, not on its row', async ({ sql, user }) => {
    await consumeAt(sql, user.id, 'api_calls', 1, NOW)
    const a = await signedInSession(user)
    const b = await signedInSession(user)
    expect(await consumeNow(a.q, 'api_calls')).toMatchObject({ used: 2 })
    const second = consumeNow(b.q, 'api_calls')
    await waitUntilBlocked(sql, b.pid)
    // Waiting on the row would show a transactionid (or tuple) lock here.
    expect(await awaitedLocks(sql, b.pid)).toEqual(['advisory'])
    await a.end('commit')
    expect(await second).toMatchObject({ allowed: true, used: 3 })
    await b.end('commit')
    expect(await counterOf(sql, user.id, 'api_calls')).toMatchObject({ used: 3 })
  })

  it('refuse at a full quota without queueing behind a consumer holding the lock', async ({
    sql,
    user,
  }) => {
    await consumeAt(sql, user.id, 'api_calls', 1000, NOW)
    const a = await signedInSession(user)
    // A refused call still took the lock and keeps it until its transaction ends.
    expect(await consumeNow(a.q, 'api_calls')).toMatchObject({ allowed: false })
    expect(await advisoryLocksHeld(sql, a.pid)).toBe(1)
    // B answers while A is still open: refusals never wait.
    const b = await signedInSession(user)
    expect(await consumeNow(b.q, 'api_calls')).toMatchObject({
      allowed: false,
      used: 1000,
      remaining: 0,
    })
    await b.end('commit')
    await a.end('commit')
  })

  it('do not deadlock with a transaction that wrote the counter another way first', async ({
    sql,
    users,
  }) => {
    // A releases a gauge (a row lock without the advisory lock, as a plan change's sync takes),
    // B queues for the counter and waits on A's row, then A consumes the same counter: waiting for
    // B's lock would be a deadlock (40P01 after deadlock_timeout). A goes on: it holds the row.
    const user = await users.create()
    await consumeAt(sql, user.id, 'projects', 2, NOW)
    const a = await beginSession(workers.sql)
    expect(await releaseNow(a.q, user.id, 'projects', 1)).toMatchObject({ allowed: true, used: 1 })
    await signIn(a, user)
    const b = await signedInSession(user)
    const second = consumeNow(b.q, 'projects')
    await waitUntilBlocked(sql, b.pid)
    expect(await consumeNow(a.q, 'projects')).toMatchObject({ allowed: true, used: 2 })
    await a.end('commit')
    expect(await second).toMatchObject({ allowed: true, used: 3, remaining: 0 })
    await b.end('commit')
    expect(await counterOf(sql, user.id, 'projects')).toMatchObject({ used: 3, quota: 3 })
    expect((await ledgerOf(sql, user.id)).map((row) => row.amount)).toEqual([2, -1, 1, 1])
  })
})

describe('a transaction consuming for many users (the owner, the service role, triggers)', () => {
  it('takes no counter locks: they would fill the shared lock table', async ({ sql, users }) => {
    const many = await Promise.all(Array.from({ length: 40 }, () => users.create()))
    const a = await beginSession(workers.sql)
    for (const user of many) {
      expect(await consumeAt(a.q, user.id, 'api_calls', 1, NOW)).toMatchObject({ allowed: true })
    }
    expect(await advisoryLocksHeld(sql, a.pid)).toBe(0)
    await a.end('commit')
    const counted = await Promise.all(many.map((user) => counterOf(sql, user.id, 'api_calls')))
    expect(counted.map((counter) => counter?.used)).toEqual(many.map(() => 1))
  })
})
