import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asUser, withRollback } from '../../helpers/db.ts'
import { consumeAt, consumeNow, counterOf, ledgerOf } from './support.ts'

const FEB = '2024-02-10T12:00:00Z'

describe('consume_usage with a key of the wrong length', () => {
  it.for([
    ['a 256-character key', 'k'.repeat(256)],
    ['an empty key', ''],
  ])('refuses %s (BADKY) and counts nothing', async ([_name, key], { sql, user }) => {
    await withRollback(sql, async (tx) => {
      await expect(
        tx.savepoint((sp) => consumeAt(sp, user.id, 'api_calls', 1, FEB, key)),
      ).rejects.toHaveProperty('code', 'BADKY')
      expect(await counterOf(tx, user.id, 'api_calls')).toBeNull()
      expect(await ledgerOf(tx, user.id)).toEqual([])
    })
  })

  it('refuses a 256-character key through the public RPC (BADKY)', async ({ sql, user }) => {
    await expect(
      asUser(sql, user, (tx) => consumeNow(tx, 'api_calls', 1, 'k'.repeat(256))),
    ).rejects.toHaveProperty('code', 'BADKY')
  })

  it('accepts a 255-character key', async ({ sql, user }) => {
    const key = 'k'.repeat(255)
    await withRollback(sql, async (tx) => {
      expect(await consumeAt(tx, user.id, 'api_calls', 1, FEB, key)).toMatchObject({
        allowed: true,
        used: 1,
      })
      expect((await ledgerOf(tx, user.id)).map((row) => row.idempotency_key)).toEqual([key])
    })
  })
})
