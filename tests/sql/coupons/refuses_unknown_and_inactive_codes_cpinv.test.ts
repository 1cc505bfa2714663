import { describe, expect } from 'vitest'
import { pgError, withRollback } from '../../helpers/db.ts'
import { couponOf, it, prepare, uniqueCode } from './support.ts'

describe('prepare_checkout with a code that is not a live coupon', () => {
  it('refuses an unknown code (CPINV)', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      expect((await pgError(prepare(tx, user.id, uniqueCode()))).code).toBe('CPINV')
    })
    await withRollback(sql, async (tx) => {
      expect((await pgError(prepare(tx, user.id, "WELCOME20' or '1'='1"))).code).toBe('CPINV')
    })
  })

  it('refuses a coupon switched off (CPINV) and takes no use of it', async ({
    sql,
    user,
    coupons,
  }) => {
    const code = await coupons.create({ active: false, maxUses: 10 })
    await withRollback(sql, async (tx) => {
      expect((await pgError(prepare(tx, user.id, code))).code).toBe('CPINV')
    })
    expect(await couponOf(sql, code)).toMatchObject({ times_redeemed: 0 })
  })
})
