import { afterAll, describe, expect, it } from 'vitest'
import { ownerSql, withRollback } from '../../helpers/db.ts'
import { consumeAt, counterOf, ledgerOf, testUsers } from './support.ts'

const sql = ownerSql()
const users = testUsers(sql)
afterAll(async () => {
  await users.drop()
  await sql.end()
})

const FEB = '2024-02-10T12:00:00Z'

describe('consume_usage with a key first used for another request', () => {
  it.each([
    ['another amount', 'api_calls', 6],
    ['another metric', 'projects', 5],
  ])('refuses %s (IDKEY) and counts nothing', async (_name, metric, amount) => {
    const user = await users.create()
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

  it('refuses another amount even when the first answer was a refusal (IDKEY)', async () => {
    const user = await users.create()
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
