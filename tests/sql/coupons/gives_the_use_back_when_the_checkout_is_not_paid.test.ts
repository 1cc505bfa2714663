import { describe, expect } from 'vitest'
import { withRollback } from '../../helpers/db.ts'
import { couponOf, it, prepare, redemptionsOf, settle } from './support.ts'

describe('settle_coupon(checkout, paid => false)', () => {
  it('releases the reservation and gives the use back, so another user can take it', async ({
    sql,
    users,
    coupons,
  }) => {
    const [first, second] = [await users.create(), await users.create()]
    const code = await coupons.create({ maxUses: 1 })
    await withRollback(sql, async (tx) => {
      const failed = await prepare(tx, first.id, code)
      await settle(tx, failed.checkout_id, false)

      expect(await redemptionsOf(tx, code, first.id)).toMatchObject([
        { checkout_ref: failed.checkout_id, status: 'released' },
      ])
      expect(await couponOf(tx, code)).toMatchObject({ times_redeemed: 0 })
      expect(await prepare(tx, second.id, code)).toMatchObject({ coupon: { code } })
      expect(await couponOf(tx, code)).toMatchObject({ times_redeemed: 1 })
    })
  })

  it('lets the same user reserve again after a release, taking the use again', async ({
    sql,
    user,
    coupons,
  }) => {
    const code = await coupons.create({ maxUses: 5 })
    await withRollback(sql, async (tx) => {
      const failed = await prepare(tx, user.id, code)
      await settle(tx, failed.checkout_id, false)
      const retry = await prepare(tx, user.id, code)
      expect(await couponOf(tx, code)).toMatchObject({ times_redeemed: 1 })
      expect(await redemptionsOf(tx, code, user.id)).toMatchObject([
        { checkout_ref: retry.checkout_id, status: 'reserved' },
      ])
    })
  })

  it('does nothing a second time, nor for a checkout that is already paid', async ({
    sql,
    user,
    coupons,
  }) => {
    const code = await coupons.create({ maxUses: 5 })
    await withRollback(sql, async (tx) => {
      const released = await prepare(tx, user.id, code)
      await settle(tx, released.checkout_id, false)
      await settle(tx, released.checkout_id, false)
      expect(await couponOf(tx, code)).toMatchObject({ times_redeemed: 0 })

      const paid = await prepare(tx, user.id, code)
      await settle(tx, paid.checkout_id, true)
      await settle(tx, paid.checkout_id, false)
      expect(await couponOf(tx, code)).toMatchObject({ times_redeemed: 1 })
      expect(await redemptionsOf(tx, code, user.id)).toMatchObject([{ status: 'redeemed' }])
    })
  })
})
