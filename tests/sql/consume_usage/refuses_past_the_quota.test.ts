import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asUser, withRollback } from '../../helpers/db.ts'
import { consumeAt, consumeNow, counterOf, ledgerOf } from './support.ts'

const FEB = '2024-02-10T12:00:00Z'
const FEB_END = '2024-03-01T00:00:00.000Z'

describe('consume_usage at the quota', () => {
  it('allows a call that reaches the quota exactly', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      await consumeAt(tx, user.id, 'api_calls', 999, FEB)
      expect(await consumeAt(tx, user.id, 'api_calls', 1, FEB)).toEqual({
        allowed: true,
        metric: 'api_calls',
        used: 1000,
        quota: 1000,
        remaining: 0,
        period_end: FEB_END,
      })
      expect(await counterOf(tx, user.id, 'api_calls')).toMatchObject({ used: 1000, quota: 1000 })
    })
  })

  it('refuses a call past the quota and counts nothing, in the counter or the ledger', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      await consumeAt(tx, user.id, 'api_calls', 1000, FEB)
      const refused = {
        allowed: false,
        metric: 'api_calls',
        used: 1000,
        quota: 1000,
        remaining: 0,
        period_end: FEB_END,
      }
      expect(await consumeAt(tx, user.id, 'api_calls', 1, FEB)).toEqual(refused)
      expect(await consumeAt(tx, user.id, 'api_calls', 1, FEB)).toEqual(refused)
      expect(await counterOf(tx, user.id, 'api_calls')).toMatchObject({
        used: 1000,
        quota: 1000,
        period_start: '2024-02-01T00:00:00.000Z',
        period_end: FEB_END,
      })
      expect(await ledgerOf(tx, user.id)).toMatchObject([{ amount: 1000, allowed: true }])
    })
  })

  it('refuses a first call larger than the whole quota and leaves the new counter at 0', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      expect(await consumeAt(tx, user.id, 'api_calls', 1001, FEB)).toEqual({
        allowed: false,
        metric: 'api_calls',
        used: 0,
        quota: 1000,
        remaining: 1000,
        period_end: FEB_END,
      })
      expect(await counterOf(tx, user.id, 'api_calls')).toMatchObject({ used: 0, quota: 1000 })
      expect(await ledgerOf(tx, user.id)).toEqual([])
    })
  })

  it('still allows a smaller call that fits after refusing a larger one', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      await consumeAt(tx, user.id, 'api_calls', 998, FEB)
      expect(await consumeAt(tx, user.id, 'api_calls', 5, FEB)).toMatchObject({
        allowed: false,
        used: 998,
        remaining: 2,
      })
      expect(await consumeAt(tx, user.id, 'api_calls', 2, FEB)).toMatchObject({
        allowed: true,
        used: 1000,
        remaining: 0,
      })
      expect(await counterOf(tx, user.id, 'api_calls')).toMatchObject({ used: 1000 })
      expect((await ledgerOf(tx, user.id)).map((row) => row.amount)).toEqual([998, 2])
    })
  })

  it('records a refused keyed call in the ledger as not allowed, counting nothing', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      await consumeAt(tx, user.id, 'api_calls', 990, FEB)
      const answer = await consumeAt(tx, user.id, 'api_calls', 20, FEB, 'refused-key')
      expect(answer).toEqual({
        allowed: false,
        metric: 'api_calls',
        used: 990,
        quota: 1000,
        remaining: 10,
        period_end: FEB_END,
      })
      expect(await counterOf(tx, user.id, 'api_calls')).toMatchObject({ used: 990 })
      expect((await ledgerOf(tx, user.id)).map(({ period_start: _, ...row }) => row)).toEqual([
        { metric: 'api_calls', amount: 990, allowed: true, idempotency_key: null, result: null },
        {
          metric: 'api_calls',
          amount: 20,
          allowed: false,
          idempotency_key: 'refused-key',
          result: answer,
        },
      ])
    })
  })

  it('refuses a gauge past its quota: free allows 3 projects', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      await consumeAt(tx, user.id, 'projects', 3, FEB)
      expect(await consumeAt(tx, user.id, 'projects', 1, FEB)).toEqual({
        allowed: false,
        metric: 'projects',
        used: 3,
        quota: 3,
        remaining: 0,
        period_end: null,
      })
      expect(await counterOf(tx, user.id, 'projects')).toMatchObject({ used: 3, quota: 3 })
    })
  })

  it('refuses through the public RPC once the signed-in user has used their quota', async ({
    sql,
    user,
  }) => {
    const answers = await asUser(sql, user, async (tx) => [
      await consumeNow(tx, 'projects', 2),
      await consumeNow(tx, 'projects', 2),
      await consumeNow(tx, 'projects', 1),
    ])
    expect(answers.map((a) => [a.allowed, a.used, a.remaining])).toEqual([
      [true, 2, 1],
      [false, 2, 1],
      [true, 3, 0],
    ])
  })
})
