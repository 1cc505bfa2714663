import { describe, expect } from 'vitest'
import { pgError, withRollback } from '../../helpers/db.ts'
import { couponOf, it, prepare } from './support.ts'

describe('prepare_checkout with a fixed-amount coupon in another currency', () => {
  it('refuses 500 INR off a USD plan (CPCUR) and takes no use of it', async ({
    sql,
    user,
    coupons,
  }) => {
    const code = await coupons.create({ amountOff: 500, currency: 'inr', maxUses: 3 })
    await withRollback(sql, async (tx) => {
      expect((await pgError(prepare(tx, user.id, code))).code).toBe('CPCUR')
    })
    expect(await couponOf(sql, code)).toMatchObject({ times_redeemed: 0 })
  })
})
