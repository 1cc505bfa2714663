import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { pgError, withRollback } from '../../helpers/db.ts'
import { checkoutOrder, verifyPayment } from './support.ts'

// Review S-1: prepare_checkout let a Razorpay checkout for another plan through while a paid
// period ran, and paying it threw the rest of that period away.
describe('prepare_checkout with Razorpay while a paid Razorpay period of pro runs', () => {
  it('refuses another plan (HASUB)', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const pro = await checkoutOrder(tx, user.id, { planId: 'pro' })
      await verifyPayment(tx, user.id, pro.orderId)
      const error = await pgError(checkoutOrder(tx, user.id, { planId: 'enterprise' }))
      expect(error.code).toBe('HASUB')
    })
  })

  it('allows the same plan (a renewal)', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const pro = await checkoutOrder(tx, user.id, { planId: 'pro' })
      await verifyPayment(tx, user.id, pro.orderId)
      expect(await checkoutOrder(tx, user.id, { planId: 'pro' })).toMatchObject({
        kind: 'renewal',
      })
    })
  })

  it('allows another plan once the paid period has run out', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const pro = await checkoutOrder(tx, user.id, { planId: 'pro' })
      const paid = await verifyPayment(tx, user.id, pro.orderId)
      await tx`
        update tollgate.subscriptions
        set current_period_start = now() - interval '32 days',
            current_period_end = now() - interval '1 day', status = 'past_due'
        where id = ${paid.subscription_id ?? ''}::uuid`
      expect(await checkoutOrder(tx, user.id, { planId: 'enterprise' })).toMatchObject({
        kind: 'new',
      })
    })
  })
})
