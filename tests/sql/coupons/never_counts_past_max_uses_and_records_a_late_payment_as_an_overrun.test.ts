import { describe, expect } from 'vitest'
import { pgError, withRollback, type Tx } from '../../helpers/db.ts'
import { checkoutOrder, verifyPayment } from '../apply_razorpay/support.ts'
import { countsOf, it, overrunAuditOf, prepare, statusesOf } from './support.ts'

// What run_maintenance does to a reservation held for two days (its updated_at is set by a
// trigger, so the test makes the same call for this one checkout).
const releaseAsMaintenance = async (tx: Tx, checkoutId: string) => {
  await tx`select tollgate_private.settle_coupon(${checkoutId}, false)`
}

// Review M-1 (b): a reservation released after two days, its use taken by others, then the old
// order paid: settle_coupon counted least(times_redeemed + 1, max_uses), 6 of 5 uses, hidden.
describe('an order paid after its coupon reservation was released (max_uses 5)', () => {
  it('is an audited overrun when the five uses were taken meanwhile, and never counts a sixth', async ({
    sql,
    users,
    coupons,
  }) => {
    const late = await users.create()
    const others = await Promise.all([1, 2, 3, 4, 5].map(() => users.create()))
    const code = await coupons.create({ maxUses: 5, percentOff: 20 })
    await withRollback(sql, async (tx) => {
      const old = await checkoutOrder(tx, late.id, { coupon: code })
      await releaseAsMaintenance(tx, old.checkoutId)
      expect(await countsOf(tx, code)).toEqual({ times_redeemed: 0, times_overrun: 0 })
      for (const other of others) {
        const order = await checkoutOrder(tx, other.id, { coupon: code })
        await verifyPayment(tx, other.id, order.orderId)
      }
      expect(await countsOf(tx, code)).toEqual({ times_redeemed: 5, times_overrun: 0 })

      await verifyPayment(tx, late.id, old.orderId)

      expect(await countsOf(tx, code)).toEqual({ times_redeemed: 5, times_overrun: 1 })
      expect(await statusesOf(tx, code, late.id)).toEqual([
        { status: 'overrun', checkout_ref: old.checkoutId },
      ])
      expect(await overrunAuditOf(tx, late.id)).toMatchObject([
        { table_name: 'coupon_redemptions', new_values: { status: 'overrun' } },
      ])
      // The account has had its discount.
      expect((await pgError(prepare(tx, late.id, code))).code).toBe('CPUSD')
    })
  })

  it('takes a use at payment when one is left', async ({ sql, users, coupons }) => {
    const late = await users.create()
    const code = await coupons.create({ maxUses: 5, percentOff: 20 })
    await withRollback(sql, async (tx) => {
      const old = await checkoutOrder(tx, late.id, { coupon: code })
      await releaseAsMaintenance(tx, old.checkoutId)
      await verifyPayment(tx, late.id, old.orderId)
      expect(await countsOf(tx, code)).toEqual({ times_redeemed: 1, times_overrun: 0 })
      expect(await statusesOf(tx, code, late.id)).toEqual([
        { status: 'redeemed', checkout_ref: old.checkoutId },
      ])
      expect(await overrunAuditOf(tx, late.id)).toEqual([])
    })
  })
})
