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
  waitUntilBlocked,
  type Answer,
} from './support.ts'

const workers = taggedPool()
afterAll(() => workers.sql.end())

const WORKERS = 16
const FEB = '2024-02-10T12:00:00Z'
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

describe('consume_usage from many connections at once', () => {
  it('never overdraws: 16 connections x 100 calls of 1 against a quota of 1000 count exactly 1000', async ({
    sql,
    user,
  }) => {
    await openConnections(workers.sql, WORKERS)

    const answers = (
      await Promise.all(
        range(WORKERS).map(async () => {
          const mine: Answer[] = []
          for (let call = 0; call < 100; call += 1) {
            // One request = one transaction, as PostgREST runs it.
            mine.push(
              await asUser(workers.sql, user, (tx) => consumeNow(tx, 'api_calls', 1), {
                commit: true,
              }),
            )
          }
          return mine
        }),
      )
    ).flat()

    const allowed = answers.filter((answer) => answer.allowed)
    const refused = answers.filter((answer) => !answer.allowed)
    expect(allowed).toHaveLength(1000)
    expect(refused).toHaveLength(600)
    // Each allowed call saw its own increment: 1, 2, ..., 1000, none lost, none twice.
    expect(allowed.map((answer) => answer.used).sort((a, b) => a - b)).toEqual(
      range(1000).map((i) => i + 1),
    )
    expect(new Set(refused.map((answer) => `${answer.used}/${answer.remaining}`))).toEqual(
      new Set(['1000/0']),
    )
    expect(await counterOf(sql, user.id, 'api_calls')).toMatchObject({ used: 1000, quota: 1000 })
    const ledger = await ledgerOf(sql, user.id)
    expect(ledger).toHaveLength(1000)
    expect(ledger.every((row) => row.allowed && row.amount === 1)).toBe(true)
  })

  it('never overdraws with mixed amounts: allowed answers add up one after another', async ({
    sql,
    user,
  }) => {
    await openConnections(workers.sql, WORKERS)

    const calls = (
      await Promise.all(
        range(WORKERS).map(async (worker) => {
          const mine: { amount: number; answer: Answer }[] = []
          for (let call = 0; call < 60; call += 1) {
            const amount = ((worker + call) % 7) + 1
            const answer = await workers.sql.begin((tx) =>
              consumeAt(tx, user.id, 'api_calls', amount, FEB),
            )
            mine.push({ amount, answer })
          }
          return mine
        }),
      )
    ).flat()

    const allowed = calls
      .filter((call) => call.answer.allowed)
      .sort((a, b) => a.answer.used - b.answer.used)
    let running = 0
    for (const call of allowed) {
      running += call.amount
      expect(call.answer.used).toBe(running)
    }
    expect(running).toBe(1000)
    for (const call of calls.filter((c) => !c.answer.allowed)) {
      expect(call.answer.used + call.amount).toBeGreaterThan(1000)
    }
    expect(await counterOf(sql, user.id, 'api_calls')).toMatchObject({ used: 1000, quota: 1000 })
    const ledger = await ledgerOf(sql, user.id)
    expect(ledger).toHaveLength(allowed.length)
    expect(ledger.reduce((sum, row) => sum + row.amount, 0)).toBe(1000)
  })
})

describe('two connections, step by step', () => {
  it('makes the second wait for the first and then refuse what no longer fits', async ({
    sql,
    user,
  }) => {
    const a = await beginSession(workers.sql)
    const b = await beginSession(workers.sql)
    // A: takes 600 of 1000 and keeps its transaction open (it also creates the counter).
    expect(await consumeAt(a.q, user.id, 'api_calls', 600, FEB)).toMatchObject({
      allowed: true,
      used: 600,
    })
    // B: asks for 600 too and has to wait for A.
    const second = consumeAt(b.q, user.id, 'api_calls', 600, FEB)
    await waitUntilBlocked(sql, b.pid)
    // A commits: B decides on A's count and refuses.
    await a.end('commit')
    expect(await second).toMatchObject({ allowed: false, used: 600, remaining: 400 })
    await b.end('commit')
    expect(await counterOf(sql, user.id, 'api_calls')).toMatchObject({ used: 600 })
    expect((await ledgerOf(sql, user.id)).map((row) => row.amount)).toEqual([600])
  })

  it('lets the second count when the first rolls back', async ({ sql, user }) => {
    await sql.begin((tx) => consumeAt(tx, user.id, 'api_calls', 100, FEB))
    const a = await beginSession(workers.sql)
    const b = await beginSession(workers.sql)
    expect(await consumeAt(a.q, user.id, 'api_calls', 600, FEB)).toMatchObject({ used: 700 })
    const second = consumeAt(b.q, user.id, 'api_calls', 600, FEB)
    await waitUntilBlocked(sql, b.pid)
    await a.end('rollback')
    expect(await second).toMatchObject({ allowed: true, used: 700, remaining: 300 })
    await b.end('commit')
    expect(await counterOf(sql, user.id, 'api_calls')).toMatchObject({ used: 700 })
    expect((await ledgerOf(sql, user.id)).map((row) => row.amount)).toEqual([100, 600])
  })

  it('lets the second create the counter when the first, which created it, rolls back', async ({
    sql,
    user,
  }) => {
    const a = await beginSession(workers.sql)
    const b = await beginSession(workers.sql)
    expect(await consumeAt(a.q, user.id, 'api_calls', 900, FEB)).toMatchObject({ used: 900 })
    const second = consumeAt(b.q, user.id, 'api_calls', 300, FEB)
    await waitUntilBlocked(sql, b.pid)
    await a.end('rollback')
    expect(await second).toMatchObject({ allowed: true, used: 300, remaining: 700 })
    await b.end('commit')
    expect(await counterOf(sql, user.id, 'api_calls')).toMatchObject({
      used: 300,
      period_start: '2024-02-01T00:00:00.000Z',
    })
  })
})
