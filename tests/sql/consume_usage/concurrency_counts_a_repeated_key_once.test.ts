import { afterAll, describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asUser } from '../../helpers/db.ts'
import {
  beginSession,
  consumeAt,
  consumeNow,
  counterOf,
  ledgerOf,
  openConnections,
  taggedPool,
  waitForLockWaiters,
  waitUntilBlocked,
} from './support.ts'

const workers = taggedPool()
afterAll(() => workers.sql.end())

const WORKERS = 16
const FEB = '2024-02-10T12:00:00Z'
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

describe('the same idempotency key from many connections at once', () => {
  it('counts once and gives all 16 callers the identical answer', async ({ sql, user }) => {
    await asUser(sql, user, (tx) => consumeNow(tx, 'api_calls', 10), { commit: true })
    await openConnections(workers.sql, WORKERS)

    const answers = await Promise.all(
      range(WORKERS).map(() =>
        asUser(workers.sql, user, (tx) => consumeNow(tx, 'api_calls', 7, 'burst-key'), {
          commit: true,
        }),
      ),
    )

    expect(answers[0]).toMatchObject({ allowed: true, used: 17, remaining: 983 })
    for (const answer of answers) expect(answer).toEqual(answers[0])
    expect(await counterOf(sql, user.id, 'api_calls')).toMatchObject({ used: 17 })
    const keyed = (await ledgerOf(sql, user.id)).filter((row) => row.idempotency_key !== null)
    expect(keyed).toHaveLength(1)
    expect(keyed[0]).toMatchObject({
      metric: 'api_calls',
      amount: 7,
      allowed: true,
      idempotency_key: 'burst-key',
      result: answers[0],
    })
  })

  it('counts once when all 16 passed the key check before any of them counted', async ({
    sql,
    user,
  }) => {
    await sql.begin((tx) => consumeAt(tx, user.id, 'api_calls', 10, FEB))
    await openConnections(workers.sql, WORKERS)

    // Hold the counter so every caller gets past the ledger lookup and queues on the row.
    const holder = await beginSession(sql)
    await holder.q`
      select 1 from tollgate_private.usage_counters
      where user_id = ${user.id}::uuid and metric = 'api_calls' for update`
    const pending = range(WORKERS).map(() =>
      workers.sql.begin((tx) => consumeAt(tx, user.id, 'api_calls', 7, FEB, 'queued-key')),
    )
    await waitForLockWaiters(sql, workers.tag, WORKERS)
    await holder.end('commit')
    const answers = await Promise.all(pending)

    expect(answers[0]).toEqual({
      allowed: true,
      metric: 'api_calls',
      used: 17,
      quota: 1000,
      remaining: 983,
      period_end: '2024-03-01T00:00:00.000Z',
    })
    for (const answer of answers) expect(answer).toEqual(answers[0])
    expect(await counterOf(sql, user.id, 'api_calls')).toMatchObject({ used: 17 })
    expect((await ledgerOf(sql, user.id)).map((row) => [row.amount, row.idempotency_key])).toEqual([
      [10, null],
      [7, 'queued-key'],
    ])
  })

  it('records a refused first answer once and gives it to all 16 callers', async ({
    sql,
    user,
  }) => {
    await sql.begin((tx) => consumeAt(tx, user.id, 'api_calls', 995, FEB))
    await openConnections(workers.sql, WORKERS)

    const answers = await Promise.all(
      range(WORKERS).map(() =>
        workers.sql.begin((tx) => consumeAt(tx, user.id, 'api_calls', 6, FEB, 'too-big')),
      ),
    )

    expect(answers[0]).toMatchObject({ allowed: false, used: 995, remaining: 5 })
    for (const answer of answers) expect(answer).toEqual(answers[0])
    expect(await counterOf(sql, user.id, 'api_calls')).toMatchObject({ used: 995 })
    expect(
      (await ledgerOf(sql, user.id)).map((row) => [row.amount, row.allowed, row.idempotency_key]),
    ).toEqual([
      [995, true, null],
      [6, false, 'too-big'],
    ])
  })
})

describe('the same idempotency key on two connections, step by step', () => {
  it('gives the second the first answer once the first commits', async ({ sql, user }) => {
    const a = await beginSession(workers.sql)
    const b = await beginSession(workers.sql)
    const first = await consumeAt(a.q, user.id, 'api_calls', 40, FEB, 'step-key')
    expect(first).toMatchObject({ allowed: true, used: 40 })
    const second = consumeAt(b.q, user.id, 'api_calls', 40, FEB, 'step-key')
    await waitUntilBlocked(sql, b.pid)
    await a.end('commit')
    expect(await second).toEqual(first)
    await b.end('commit')
    expect(await counterOf(sql, user.id, 'api_calls')).toMatchObject({ used: 40 })
    expect((await ledgerOf(sql, user.id)).map((row) => row.idempotency_key)).toEqual(['step-key'])
  })

  it('counts the second when the first rolls back', async ({ sql, user }) => {
    await sql.begin((tx) => consumeAt(tx, user.id, 'api_calls', 1, FEB))
    const a = await beginSession(workers.sql)
    const b = await beginSession(workers.sql)
    expect(await consumeAt(a.q, user.id, 'api_calls', 40, FEB, 'undone-key')).toMatchObject({
      used: 41,
    })
    const second = consumeAt(b.q, user.id, 'api_calls', 40, FEB, 'undone-key')
    await waitUntilBlocked(sql, b.pid)
    await a.end('rollback')
    const answer = await second
    expect(answer).toMatchObject({ allowed: true, used: 41, remaining: 959 })
    await b.end('commit')
    expect(await counterOf(sql, user.id, 'api_calls')).toMatchObject({ used: 41 })
    expect(await ledgerOf(sql, user.id)).toMatchObject([
      { amount: 1, idempotency_key: null },
      { amount: 40, idempotency_key: 'undone-key', result: answer },
    ])
  })

  it('refuses the second with IDKEY when it reuses the committed key for another amount', async ({
    sql,
    user,
  }) => {
    await sql.begin((tx) => consumeAt(tx, user.id, 'api_calls', 1, FEB))
    const a = await beginSession(workers.sql)
    const b = await beginSession(workers.sql)
    await consumeAt(a.q, user.id, 'api_calls', 40, FEB, 'mixed-key')
    const second = consumeAt(b.q, user.id, 'api_calls', 50, FEB, 'mixed-key')
    // Handled now: it may reject before the expectation below is attached.
    second.catch(() => undefined)
    await waitUntilBlocked(sql, b.pid)
    await a.end('commit')
    await expect(second).rejects.toHaveProperty('code', 'IDKEY')
    await b.end('rollback')
    expect(await counterOf(sql, user.id, 'api_calls')).toMatchObject({ used: 41 })
  })
})
