import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asUser, withRollback } from '../../helpers/db.ts'
import { consumeAt, consumeNow, counterOf, ledgerOf } from './support.ts'

const FEB = '2024-02-10T12:00:00Z'

describe('consume_usage with an amount that is not positive', () => {
  it.for<[string, number | null]>([
    ['zero', 0],
    ['a negative amount', -5],
    ['a null amount', null],
  ])('refuses %s through the private function (INAMT)', async ([_name, amount], { sql, user }) => {
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

  it.for<[string, number | null]>([
    ['zero', 0],
    ['a negative amount', -1],
    ['a null amount', null],
  ])('refuses %s through the public RPC (INAMT)', async ([_name, amount], { sql, user }) => {
    await expect(
      asUser(sql, user, (tx) => consumeNow(tx, 'api_calls', amount)),
    ).rejects.toHaveProperty('code', 'INAMT')
    expect(await counterOf(sql, user.id, 'api_calls')).toBeNull()
  })
})
