import { afterAll, describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import {
  beginSession,
  consumeAt,
  counterOf,
  ledgerOf,
  openConnections,
  taggedPool,
  waitForLockWaiters,
  waitUntilBlocked,
  type Answer,
} from './support.ts'

const workers = taggedPool()
afterAll(() => workers.sql.end())

const WORKERS = 16
const IN_FEBRUARY = '2024-02-29T12:00:00Z'
const JUST_AFTER = '2024-03-01T00:00:00.000001Z'
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

const marchCounter = {
  plan_id: 'free',
  period: 'month',
  period_start: '2024-03-01T00:00:00.000Z',
  period_end: '2024-04-01T00:00:00.000Z',
  used: WORKERS,
  quota: 1000,
  base_quota: 1000,
}

const expectOneIncrementEach = (answers: Answer[]) => {
  expect(answers.every((answer) => answer.allowed)).toBe(true)
  expect(answers.map((answer) => answer.used).sort((a, b) => a - b)).toEqual(
    range(WORKERS).map((i) => i + 1),
  )
  expect(new Set(answers.map((answer) => answer.period_end))).toEqual(
    new Set(['2024-04-01T00:00:00.000Z']),
  )
}

describe('first calls of a new period from many connections at once', () => {
  it('reset the counter once, never twice: 16 queued calls just after the boundary count 16', async ({
    sql,
    user,
  }) => {
    await sql.begin((tx) => consumeAt(tx, user.id, 'api_calls', 900, IN_FEBRUARY))
    await openConnections(workers.sql, WORKERS)

    // Hold February's counter so all 16 find it ended and queue to roll it.
    const holder = await beginSession(sql)
    await holder.q`
      select 1 from tollgate_private.usage_counters
      where user_id = ${user.id}::uuid and metric = 'api_calls' for update`
    const pending = range(WORKERS).map(() =>
      workers.sql.begin((tx) => consumeAt(tx, user.id, 'api_calls', 1, JUST_AFTER)),
    )
    await waitForLockWaiters(sql, workers.tag, WORKERS)
    await holder.end('commit')
    const answers = await Promise.all(pending)

    expectOneIncrementEach(answers)
    expect(await counterOf(sql, user.id, 'api_calls')).toMatchObject(marchCounter)
    expect((await ledgerOf(sql, user.id)).map((row) => row.amount)).toEqual([
      900,
      ...range(WORKERS).map(() => 1),
    ])
  })

  it('reset the counter once in an unstaged burst too', async ({ sql, user }) => {
    await sql.begin((tx) => consumeAt(tx, user.id, 'api_calls', 1000, IN_FEBRUARY))
    await openConnections(workers.sql, WORKERS)

    const answers = await Promise.all(
      range(WORKERS).map(() =>
        workers.sql.begin((tx) => consumeAt(tx, user.id, 'api_calls', 1, JUST_AFTER)),
      ),
    )

    expectOneIncrementEach(answers)
    expect(await counterOf(sql, user.id, 'api_calls')).toMatchObject(marchCounter)
  })

  it('create a missing counter once: 16 first-ever calls count 16', async ({ sql, user }) => {
    await openConnections(workers.sql, WORKERS)

    const answers = await Promise.all(
      range(WORKERS).map(() =>
        workers.sql.begin((tx) => consumeAt(tx, user.id, 'api_calls', 1, JUST_AFTER)),
      ),
    )

    expectOneIncrementEach(answers)
    expect(await counterOf(sql, user.id, 'api_calls')).toMatchObject(marchCounter)
  })
})

describe('the first calls of a new period on two connections, step by step', () => {
  it('lets the second count on the period the first started, without a second reset', async ({
    sql,
    user,
  }) => {
    await sql.begin((tx) => consumeAt(tx, user.id, 'api_calls', 1000, IN_FEBRUARY))
    const a = await beginSession(workers.sql)
    const b = await beginSession(workers.sql)
    // A: first call after the boundary rolls the period and counts 30, uncommitted.
    expect(await consumeAt(a.q, user.id, 'api_calls', 30, JUST_AFTER)).toMatchObject({
      allowed: true,
      used: 30,
    })
    // B: sees February's ended counter, queues to roll it.
    const second = consumeAt(b.q, user.id, 'api_calls', 20, '2024-03-01T00:00:01Z')
    await waitUntilBlocked(sql, b.pid)
    await a.end('commit')
    expect(await second).toMatchObject({ allowed: true, used: 50, remaining: 950 })
    await b.end('commit')
    expect(await counterOf(sql, user.id, 'api_calls')).toMatchObject({
      period_start: '2024-03-01T00:00:00.000Z',
      used: 50,
    })
  })

  it('lets the second roll the period itself when the first rolls back', async ({ sql, user }) => {
    await sql.begin((tx) => consumeAt(tx, user.id, 'api_calls', 1000, IN_FEBRUARY))
    const a = await beginSession(workers.sql)
    const b = await beginSession(workers.sql)
    await consumeAt(a.q, user.id, 'api_calls', 30, JUST_AFTER)
    const second = consumeAt(b.q, user.id, 'api_calls', 20, '2024-03-01T00:00:01Z')
    await waitUntilBlocked(sql, b.pid)
    await a.end('rollback')
    expect(await second).toMatchObject({ allowed: true, used: 20, remaining: 980 })
    await b.end('commit')
    expect(await counterOf(sql, user.id, 'api_calls')).toMatchObject({
      period_start: '2024-03-01T00:00:00.000Z',
      used: 20,
    })
  })
})
