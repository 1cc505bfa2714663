import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback } from '../../helpers/db.ts'
import { checkoutOrder, verifyPayment } from './support.ts'

// Review S-3 (b): a renewal paid late restarted the paid period at the payment but left
// billing_cycle_anchor and current_period_start on the first payment: quota months drifted from
// paid months and the row showed a two-month period.
describe('a Razorpay renewal paid after the paid period ended (in grace)', () => {
  it('starts the period and the billing anchor at the payment', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const first = await checkoutOrder(tx, user.id)
      const applied = await verifyPayment(tx, user.id, first.orderId)
      await tx`
        update tollgate.subscriptions
        set current_period_start = now() - interval '33 days',
            billing_cycle_anchor = now() - interval '33 days',
            current_period_end = now() - interval '2 days', status = 'past_due'
        where id = ${applied.subscription_id ?? ''}::uuid`

      const renewal = await checkoutOrder(tx, user.id)
      await verifyPayment(tx, user.id, renewal.orderId)

      const [row] = await tx<{ status: string; start: boolean; anchor: boolean; end: boolean }[]>`
        select status, current_period_start = now() as start, billing_cycle_anchor = now() as anchor,
          current_period_end = (now() at time zone 'UTC' + interval '1 month') at time zone 'UTC' as end
        from tollgate.subscriptions where id = ${applied.subscription_id ?? ''}::uuid`
      expect(row).toEqual({ status: 'active', start: true, anchor: true, end: true })
    })
  })
})

describe('a Razorpay renewal paid before the paid period ends', () => {
  it('extends from the paid end and keeps the anchor', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const first = await checkoutOrder(tx, user.id)
      const applied = await verifyPayment(tx, user.id, first.orderId)
      const renewal = await checkoutOrder(tx, user.id)
      await verifyPayment(tx, user.id, renewal.orderId)

      const [row] = await tx<{ start: boolean; anchor: boolean; end: boolean }[]>`
        select current_period_start = i.period_end as start, s.billing_cycle_anchor = i.period_start as anchor,
          s.current_period_end = (i.period_end at time zone 'UTC' + interval '1 month') at time zone 'UTC' as end
        from tollgate.subscriptions s
        join tollgate.invoices i on i.number = ${first.orderId}
        where s.id = ${applied.subscription_id ?? ''}::uuid`
      expect(row).toEqual({ start: true, anchor: true, end: true })
    })
  })
})
