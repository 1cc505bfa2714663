import { describe, expect } from 'vitest'
import { pgError, withRollback, type Tx } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'

const purchaseFor = async (tx: Tx, userId: string): Promise<string> => {
  const [row] = await tx<{ id: string }[]>`
    insert into tollgate.purchases (user_id, product_id, provider, currency, amount_paid)
    values (${userId}, 'api_calls_pack', 'internal', 'usd', 1000)
    returning id`
  return row!.id
}

describe('the credit store', () => {
  it('grant_credits writes one row with everything remaining', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const purchaseId = await purchaseFor(tx, user.id)
      const [grant] = await tx`
        select g.granted, g.remaining, g.source, g.purchase_id, g.expires_at
        from tollgate_private.grant_credits(${user.id}, 'api_calls', 500,
          '2027-01-01T00:00:00Z', 'purchase', ${purchaseId}) g`
      expect(grant).toEqual({
        granted: '500',
        remaining: '500',
        source: 'purchase',
        purchase_id: purchaseId,
        expires_at: new Date('2027-01-01T00:00:00Z'),
      })
    })
  })

  it('refuses zero credits (BADRQ), an unknown metric (NOMET) and an admin grant without a reason', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const zero = await pgError(tx.savepoint((s) =>
        s`select tollgate_private.grant_credits(${user.id}, 'api_calls', 0, null, 'admin', null, 'x')`))
      expect(zero.code).toBe('BADRQ')
      const metric = await pgError(tx.savepoint((s) =>
        s`select tollgate_private.grant_credits(${user.id}, 'nope', 5, null, 'admin', null, 'x')`))
      expect(metric.code).toBe('NOMET')
      const noReason = await pgError(tx.savepoint((s) =>
        s`select tollgate_private.grant_credits(${user.id}, 'api_calls', 5, null, 'admin')`))
      expect(noReason.constraint_name).toBe('credit_balances_admin_has_reason')
      const [{ n }] = await tx`select count(*)::int as n from tollgate.credit_balances where user_id = ${user.id}`
      expect(n).toBe(0)
    })
  })

  it('revoking a purchase takes back what is left once; used credits stay used', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const purchaseId = await purchaseFor(tx, user.id)
      const [grant] = await tx<{ id: string }[]>`
        select g.id from tollgate_private.grant_credits(${user.id}, 'api_calls', 500, null, 'purchase', ${purchaseId}) g`
      // 120 of them used.
      await tx`update tollgate.credit_balances set remaining = 380 where id = ${grant!.id}`

      const [first] = await tx`select tollgate_private.revoke_purchase_credits(${purchaseId}) as n`
      const [again] = await tx`select tollgate_private.revoke_purchase_credits(${purchaseId}) as n`

      expect([first!.n, again!.n]).toEqual(['380', '0'])
      const [row] = await tx`
        select granted, remaining, revoked_at is not null as revoked
        from tollgate.credit_balances where id = ${grant!.id}`
      expect(row).toEqual({ granted: '500', remaining: '0', revoked: true })
    })
  })
})
