import { afterAll, describe, expect, it } from 'vitest'
import { asUser, ownerSql, withRollback } from '../../helpers/db.ts'
import { consumeAt, consumeNow, counterOf, ledgerOf, testUsers } from './support.ts'

const sql = ownerSql()
const users = testUsers(sql)
afterAll(async () => {
  await users.drop()
  await sql.end()
})

const FEB = '2024-02-10T12:00:00Z'

describe('consume_usage with an amount that is not positive', () => {
  it.each([
    ['zero', 0],
    ['a negative amount', -5],
    ['a null amount', null],
  ])('refuses %s through the private function (INAMT)', async (_name, amount) => {
    const user = await users.create()
    await withRollback(sql, async (tx) => {
      await consumeAt(tx, user.id, 'api_calls', 10, FEB)
      await expect(
        tx.savepoint((sp) => consumeAt(sp, user.id, 'api_calls', amount, FEB)),
      ).rejects.toHaveProperty('code', 'INAMT')
      await expect(
        tx.savepoint((sp) => consumeAt(sp, user.id, 'api_calls', amount, FEB, 'some-key')),
      ).rejects.toHaveProperty('code', 'INAMT')
      expect(await counterOf(tx, user.id, 'api_calls')).toMatchObject({ used: 10 })
      expect((await ledgerOf(tx, user.id)).map((row) => row.amount)).toEqual([10])
    })
  })

  it.each([
    ['zero', 0],
    ['a negative amount', -1],
    ['a null amount', null],
  ])('refuses %s through the public RPC (INAMT)', async (_name, amount) => {
    const user = await users.create()
    await expect(
      asUser(sql, user, (tx) => consumeNow(tx, 'api_calls', amount)),
    ).rejects.toHaveProperty('code', 'INAMT')
    expect(await counterOf(sql, user.id, 'api_calls')).toBeNull()
  })
})
