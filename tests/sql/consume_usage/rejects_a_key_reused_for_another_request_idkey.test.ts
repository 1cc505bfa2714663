import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback } from '../../helpers/db.ts'
import { consumeAt, counterOf, ledgerOf } from './support.ts'

const FEB = '2024-02-10T12:00:00Z'

describe('consume_usage with a key first used for another request', () => {
  it.for<[string, string, number]>([
    ['another amount', 'api_calls', 6],
    ['another metric', 'projects', 5],
  ])('refuses %s (IDKEY) and counts nothing', async ([_name, metric, amount], { sql, user }) => {
    await withRollback(sql, async (tx) => {
      await consumeAt(tx, user.id, 'api_calls', 5, FEB, 'req-1')
      await expect(
        tx.savepoint((sp) => consumeAt(sp, user.id, metric, amount, FEB, 'req-1')),
      ).rejects.toHaveProperty('code', 'IDKEY')
      expect(await counterOf(tx, user.id, 'api_calls')).toMatchObject({ used: 5 })
      expect(await counterOf(tx, user.id, 'projects')).toBeNull()
      expect((await ledgerOf(tx, user.id)).map((row) => [row.metric, row.amount])).toEqual([
        ['api_calls', 5],
      ])
    })
  })

  it('refuses another amount even when the first answer was a refusal (IDKEY)', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      expect(await consumeAt(tx, user.id, 'api_calls', 5000, FEB, 'big')).toMatchObject({
        allowed: false,
      })
      await expect(
        tx.savepoint((sp) => consumeAt(sp, user.id, 'api_calls', 50, FEB, 'big')),
      ).rejects.toHaveProperty('code', 'IDKEY')
      expect(await counterOf(tx, user.id, 'api_calls')).toMatchObject({ used: 0 })
    })
  })
})
