import { afterAll, describe, expect, it } from 'vitest'
import { ownerSql, withRollback } from '../../helpers/db.ts'
import { couponOf, prepare, redemptionsOf, testCoupons, testUsers } from './support.ts'

const sql = ownerSql()
const users = testUsers(sql)
const coupons = testCoupons(sql)
afterAll(async () => {
  await users.drop()
  await coupons.drop()
  await sql.end()
})

describe('a user who checks out again while their coupon use is reserved', () => {
  it('hands the reservation to the new checkout without taking a second use', async () => {
    const user = await users.create()
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
