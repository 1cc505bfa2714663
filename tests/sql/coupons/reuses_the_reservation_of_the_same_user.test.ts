import { describe, expect } from 'vitest'
import { withRollback } from '../../helpers/db.ts'
import { couponOf, it, prepare, redemptionsOf } from './support.ts'

describe('a user who checks out again while their coupon use is reserved', () => {
  it('hands the reservation to the new checkout without taking a second use', async ({
    sql,
    user,
    coupons,
  }) => {
    const code = await coupons.create({ maxUses: 1, percentOff: 20 })
    await withRollback(sql, async (tx) => {
      const abandoned = await prepare(tx, user.id, code)
      const again = await prepare(tx, user.id, code)

      expect(again).toMatchObject({
        amount: 2320,
        coupon: { redemption_id: abandoned.coupon?.redemption_id },
      })
      expect(again.checkout_id).not.toBe(abandoned.checkout_id)
      expect(await couponOf(tx, code)).toMatchObject({ times_redeemed: 1, max_uses: 1 })
      expect(await redemptionsOf(tx, code, user.id)).toMatchObject([
        {
          id: abandoned.coupon?.redemption_id,
          checkout_ref: again.checkout_id,
          status: 'reserved',
        },
      ])
    })
  })
})
