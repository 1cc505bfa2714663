import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asUser, withRollback } from '../../helpers/db.ts'
import { consumeAt, consumeNow, counterOf, ledgerOf } from './support.ts'

const FEB = '2024-02-10T12:00:00Z'
const FEB_END = '2024-03-01T00:00:00.000Z'

describe('consume_usage with an idempotency key', () => {
  it('counts the same key twice once and returns the first answer, even after other usage', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const first = await consumeAt(tx, user.id, 'api_calls', 5, FEB, 'req-1')
      expect(first).toEqual({
        allowed: true,
        metric: 'api_calls',
        used: 5,
        quota: 1000,
        remaining: 995,
        period_end: FEB_END,
      })
      await consumeAt(tx, user.id, 'api_calls', 3, FEB)
      expect(await consumeAt(tx, user.id, 'api_calls', 5, FEB, 'req-1')).toEqual(first)
      expect(await consumeAt(tx, user.id, 'api_calls', 5, '2024-02-20T00:00:00Z', 'req-1')).toEqual(
        first,
      )
      expect(await counterOf(tx, user.id, 'api_calls')).toMatchObject({ used: 8 })
      const ledger = await ledgerOf(tx, user.id)
      expect(ledger.map((row) => [row.amount, row.allowed, row.idempotency_key])).toEqual([
        [5, true, 'req-1'],
        [3, true, null],
      ])
      expect(ledger[0]?.result).toEqual(first)
    })
  })

  it('replays a refused first answer and still counts nothing, even in a later period', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      await consumeAt(tx, user.id, 'api_calls', 1000, FEB)
      const refused = await consumeAt(tx, user.id, 'api_calls', 1, FEB, 'late-req')
      expect(refused).toEqual({
        allowed: false,
        metric: 'api_calls',
        used: 1000,
        quota: 1000,
        remaining: 0,
        period_end: FEB_END,
      })
      // In March there is room again, but the key already has its answer.
      expect(
        await consumeAt(tx, user.id, 'api_calls', 1, '2024-03-05T00:00:00Z', 'late-req'),
      ).toEqual(refused)
      expect(await counterOf(tx, user.id, 'api_calls')).toMatchObject({
        used: 1000,
        period_start: '2024-02-01T00:00:00.000Z',
        period_end: FEB_END,
      })
      expect(
        (await ledgerOf(tx, user.id)).map((row) => [row.amount, row.allowed, row.idempotency_key]),
      ).toEqual([
        [1000, true, null],
        [1, false, 'late-req'],
      ])
    })
  })

  it('keeps keys apart per user: the same key counts for each user', async ({ sql, users }) => {
    const alice = await users.create()
    const bob = await users.create()
    await withRollback(sql, async (tx) => {
      await consumeAt(tx, alice.id, 'api_calls', 10, FEB, 'shared-key')
      expect(await consumeAt(tx, bob.id, 'api_calls', 10, FEB, 'shared-key')).toMatchObject({
        allowed: true,
        used: 10,
      })
      expect(await counterOf(tx, alice.id, 'api_calls')).toMatchObject({ used: 10 })
      expect(await counterOf(tx, bob.id, 'api_calls')).toMatchObject({ used: 10 })
    })
  })

  it('counts a retried key once through the public RPC, across requests', async ({ sql, user }) => {
    const first = await asUser(sql, user, (tx) => consumeNow(tx, 'api_calls', 2, 'rpc-key'), {
      commit: true,
    })
    const again = await asUser(sql, user, (tx) => consumeNow(tx, 'api_calls', 2, 'rpc-key'), {
      commit: true,
    })
    expect(first).toMatchObject({ allowed: true, used: 2, remaining: 998 })
    expect(again).toEqual(first)
    expect(await counterOf(sql, user.id, 'api_calls')).toMatchObject({ used: 2 })
    expect((await ledgerOf(sql, user.id)).map((row) => row.idempotency_key)).toEqual(['rpc-key'])
  })
})
