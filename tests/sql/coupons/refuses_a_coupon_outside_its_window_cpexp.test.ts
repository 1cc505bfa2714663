import { describe, expect } from 'vitest'
import { pgError, type Tx, withRollback } from '../../helpers/db.ts'
import { couponOf, it, prepare } from './support.ts'

describe('prepare_checkout with a coupon outside its validity window', () => {
  it('refuses an expired coupon (CPEXP) and takes no use of it', async ({ sql, user, coupons }) => {
    const code = await coupons.create({ validFrom: '-30 days', validUntil: '-1 day', maxUses: 10 })
    await withRollback(sql, async (tx) => {
      expect((await pgError(prepare(tx, user.id, code))).code).toBe('CPEXP')
    })
    expect(await couponOf(sql, code)).toMatchObject({ times_redeemed: 0 })
  })

  it('refuses a coupon that is not valid yet (CPEXP)', async ({ sql, user, coupons }) => {
    const code = await coupons.create({ validFrom: '1 day', validUntil: '30 days' })
    await withRollback(sql, async (tx) => {
      expect((await pgError(prepare(tx, user.id, code))).code).toBe('CPEXP')
    })
  })

  it('accepts a coupon inside its window', async ({ sql, user, coupons }) => {
    const code = await coupons.create({ validFrom: '-1 day', validUntil: '1 day', percentOff: 50 })
    await withRollback(sql, async (tx) => {
      expect(await prepare(tx, user.id, code)).toMatchObject({ amount: 1450, coupon: { code } })
    })
  })
})

describe('the edges of the window', () => {
  const prepareAt = (tx: Tx, userId: string, code: string, asOf: string) =>
    tx`select tollgate_private.prepare_checkout(${userId}::uuid, 'pro', 'razorpay', ${code},
      (select c.${tx.unsafe(asOf)} from tollgate_private.coupons c where c.code = ${code}))`

  it('is valid from valid_from on and refused from valid_until on (CPEXP)', async ({
    sql,
    user,
    coupons,
  }) => {
    const code = await coupons.create({ validFrom: '1 day', validUntil: '30 days' })
    await withRollback(sql, async (tx) => {
      expect((await pgError(prepareAt(tx, user.id, code, 'valid_until'))).code).toBe('CPEXP')
    })
    await withRollback(sql, async (tx) => {
      const early = prepareAt(tx, user.id, code, "valid_from - interval '1 microsecond'")
      expect((await pgError(early)).code).toBe('CPEXP')
    })
    await withRollback(sql, async (tx) => {
      await prepareAt(tx, user.id, code, 'valid_from')
      await prepareAt(tx, user.id, code, "valid_until - interval '1 microsecond'")
    })
  })
})
