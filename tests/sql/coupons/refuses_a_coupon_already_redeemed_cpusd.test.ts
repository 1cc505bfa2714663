import { describe, expect } from 'vitest'
import { pgError, withRollback } from '../../helpers/db.ts'
import { couponOf, it, prepare, redemptionsOf, settle } from './support.ts'

describe('prepare_checkout with a coupon the user has already paid with', () => {
  it('refuses it (CPUSD), even while uses are left', async ({ sql, user, coupons }) => {
    const code = await coupons.create({ maxUses: 10 })
    await withRollback(sql, async (tx) => {
      const paid = await prepare(tx, user.id, code)
      await settle(tx, paid.checkout_id, true)
      expect(await redemptionsOf(tx, code, user.id)).toMatchObject([
        { checkout_ref: paid.checkout_id, status: 'redeemed' },
      ])
      expect(await couponOf(tx, code)).toMatchObject({ times_redeemed: 1 })
      await tx`savepoint refusal`
      expect((await pgError(prepare(tx, user.id, code))).code).toBe('CPUSD')
      await tx`rollback to savepoint refusal`
      expect(await couponOf(tx, code)).toMatchObject({ times_redeemed: 1 })
    })
  })
})
