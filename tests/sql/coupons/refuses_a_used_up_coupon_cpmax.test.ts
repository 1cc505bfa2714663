import { describe, expect } from 'vitest'
import { pgError, withRollback } from '../../helpers/db.ts'
import { couponOf, it, prepare, settle } from './support.ts'

describe('prepare_checkout with a coupon whose uses are all taken', () => {
  it('refuses a second user when the only use is reserved (CPMAX)', async ({
    sql,
    users,
    coupons,
  }) => {
    const [first, second] = [await users.create(), await users.create()]
    const code = await coupons.create({ maxUses: 1 })
    await withRollback(sql, async (tx) => {
      await prepare(tx, first.id, code)
      expect(await couponOf(tx, code)).toMatchObject({ times_redeemed: 1, max_uses: 1 })
      await tx`savepoint refusal`
      expect((await pgError(prepare(tx, second.id, code))).code).toBe('CPMAX')
      await tx`rollback to savepoint refusal`
      expect(await couponOf(tx, code)).toMatchObject({ times_redeemed: 1 })
    })
  })

  it('refuses a second user when the only use is redeemed (CPMAX)', async ({
    sql,
    users,
    coupons,
  }) => {
    const [first, second] = [await users.create(), await users.create()]
    const code = await coupons.create({ maxUses: 1 })
    await withRollback(sql, async (tx) => {
      await settle(tx, (await prepare(tx, first.id, code)).checkout_id, true)
      expect((await pgError(prepare(tx, second.id, code))).code).toBe('CPMAX')
    })
  })
})
