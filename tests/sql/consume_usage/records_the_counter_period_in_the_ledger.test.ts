import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback } from '../../helpers/db.ts'
import { consumeAt, ledgerOf } from './support.ts'

describe('the usage ledger', () => {
  it('records the start of the period each consume was counted in', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      await consumeAt(tx, user.id, 'api_calls', 4, '2024-02-10T12:00:00Z')
      await consumeAt(tx, user.id, 'api_calls', 6, '2024-03-10T12:00:00Z', 'march-key')
      expect((await ledgerOf(tx, user.id)).map((row) => [row.amount, row.period_start])).toEqual([
        [4, '2024-02-01T00:00:00.000Z'],
        [6, '2024-03-01T00:00:00.000Z'],
      ])
    })
  })
})
