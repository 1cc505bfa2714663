import { describe, expect } from 'vitest'
import { pgError, withRollback } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'
import { coupon, preparePurchase } from './support.ts'

describe('prepare_purchase refuses', () => {
  it('an unknown product (NOPRD) and an inactive one (PRINA)', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const unknown = await pgError(tx.savepoint((s) => preparePurchase(s, user.id, { productId: 'nope' })))
      expect(unknown.code).toBe('NOPRD')
      await tx`update tollgate.products set active = false where id = 'api_calls_pack'`
      const inactive = await pgError(tx.savepoint((s) => preparePurchase(s, user.id)))
      expect(inactive.code).toBe('PRINA')
    })
  })

  it.for([0, 1001, -1, null])('quantity %s (BADRQ)', async (quantity, { sql, user }) => {
    await withRollback(sql, async (tx) => {
      const error = await pgError(tx.savepoint((s) => preparePurchase(s, user.id, { quantity })))
      expect(error.code).toBe('BADRQ')
    })
  })

  it('accepts 1 and 1000', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      expect(await preparePurchase(tx, user.id, { quantity: 1 })).toMatchObject({ amount: 1000 })
      expect(await preparePurchase(tx, user.id, { quantity: 1000 })).toMatchObject({ amount: 1000000 })
    })
  })

  it('a coupon limited to plans (CPPLN) and reserves no use of it', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const code = await coupon(tx, { planIds: ['pro', 'enterprise'] })
      const error = await pgError(tx.savepoint((s) => preparePurchase(s, user.id, { coupon: code })))
      expect(error.code).toBe('CPPLN')
      const [row] = await tx`select times_redeemed from tollgate_private.coupons where code = ${code}`
      expect(row).toEqual({ times_redeemed: 0 })
      const seeded = await pgError(tx.savepoint((s) => preparePurchase(s, user.id, { coupon: 'WELCOME20' })))
      expect(seeded.code).toBe('CPPLN')
    })
  })

  it('an unknown coupon (CPINV)', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const error = await pgError(tx.savepoint((s) => preparePurchase(s, user.id, { coupon: 'NOSUCHCODE' })))
      expect(error.code).toBe('CPINV')
    })
  })
})
