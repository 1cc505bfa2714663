import { afterAll, describe, expect, it } from 'vitest'
import { ownerSql, pgError, withRollback } from '../../helpers/db.ts'
import { couponOf, prepare, testCoupons, testUsers, uniqueCode } from './support.ts'

const sql = ownerSql()
const users = testUsers(sql)
const coupons = testCoupons(sql)
afterAll(async () => {
  await users.drop()
  await coupons.drop()
  await sql.end()
})

describe('prepare_checkout with a code that is not a live coupon', () => {
  it('refuses an unknown code (CPINV)', async () => {
    const user = await users.create()
    await withRollback(sql, async (tx) => {
      expect((await pgError(prepare(tx, user.id, uniqueCode()))).code).toBe('CPINV')
    })
    await withRollback(sql, async (tx) => {
      expect((await pgError(prepare(tx, user.id, "WELCOME20' or '1'='1"))).code).toBe('CPINV')
    })
  })

  it('refuses a coupon switched off (CPINV) and takes no use of it', async () => {
    const user = await users.create()
    const code = await coupons.create({ active: false, maxUses: 10 })
    await withRollback(sql, async (tx) => {
      expect((await pgError(prepare(tx, user.id, code))).code).toBe('CPINV')
    })
    expect(await couponOf(sql, code)).toMatchObject({ times_redeemed: 0 })
  })
})
