import { afterAll, describe, expect, it } from 'vitest'
import { ownerSql, pgError, withRollback } from '../../helpers/db.ts'
import { couponOf, prepare, testCoupons, testUsers } from './support.ts'

const sql = ownerSql()
const users = testUsers(sql)
const coupons = testCoupons(sql)
afterAll(async () => {
  await users.drop()
  await coupons.drop()
  await sql.end()
})

describe('prepare_checkout with a fixed-amount coupon in another currency', () => {
  it('refuses 500 INR off a USD plan (CPCUR) and takes no use of it', async () => {
    const user = await users.create()
    const code = await coupons.create({ amountOff: 500, currency: 'inr', maxUses: 3 })
    await withRollback(sql, async (tx) => {
      expect((await pgError(prepare(tx, user.id, code))).code).toBe('CPCUR')
    })
    expect(await couponOf(sql, code)).toMatchObject({ times_redeemed: 0 })
  })
})
