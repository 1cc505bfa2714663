import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asUser, withRollback } from '../../helpers/db.ts'
import { consumeAt, consumeNow, ledgerOf } from './support.ts'

const FEB = '2024-02-10T12:00:00Z'

const countersOf = async (q: Parameters<typeof ledgerOf>[0], userId: string): Promise<number> => {
  const [row] = await q<{ n: number }[]>`
    select count(*)::int as n from tollgate_private.usage_counters where user_id = ${userId}::uuid`
  return row?.n ?? -1
}

describe('consume_usage of a metric no plan has', () => {
  it.for([
    ['a well-formed name no plan limits', 'no_such_metric'],
    ['a malformed name', 'API Calls'],
    ['an empty name', ''],
    ['a null metric', null],
  ])('refuses %s through the private function (NOMET)', async ([_name, metric], { sql, user }) => {
    await withRollback(sql, async (tx) => {
      await expect(
        tx.savepoint((sp) => consumeAt(sp, user.id, metric, 1, FEB)),
      ).rejects.toHaveProperty('code', 'NOMET')
      await expect(
        tx.savepoint((sp) => consumeAt(sp, user.id, metric, 1, FEB, 'some-key')),
      ).rejects.toHaveProperty('code', 'NOMET')
      expect(await countersOf(tx, user.id)).toBe(0)
      expect(await ledgerOf(tx, user.id)).toEqual([])
    })
  })

  it('refuses it through the public RPC (NOMET)', async ({ sql, user }) => {
    await expect(
      asUser(sql, user, (tx) => consumeNow(tx, 'no_such_metric')),
    ).rejects.toHaveProperty('code', 'NOMET')
    expect(await countersOf(sql, user.id)).toBe(0)
  })
})
