import { describe, expect } from 'vitest'
import { pgError, withRollback } from '../../helpers/db.ts'
import { couponOf, it, pinCoupon, prepare, redemptionsOf } from './support.ts'

describe('prepare_checkout with a coupon for other plans', () => {
  it('refuses STUDENT50 on enterprise (CPPLN) and takes no use of it; pro gets 50 % off', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const before = await pinCoupon(tx, 'STUDENT50')
      await tx`savepoint refusal`
      expect(
        (await pgError(prepare(tx, user.id, 'STUDENT50', { planId: 'enterprise' }))).code,
      ).toBe('CPPLN')
      await tx`rollback to savepoint refusal`
      expect(await couponOf(tx, 'STUDENT50')).toEqual(before)
      expect(await redemptionsOf(tx, 'STUDENT50', user.id)).toEqual([])

      expect(await prepare(tx, user.id, 'STUDENT50')).toMatchObject({ amount: 1450 })
      expect(await couponOf(tx, 'STUDENT50')).toEqual({
        ...before,
        times_redeemed: before.times_redeemed + 1,
      })
    })
  })
})
