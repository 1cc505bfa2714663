import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { razorpayId } from '../../helpers/fake-razorpay.ts'
import { withRollback, type Tx } from '../../helpers/db.ts'
import {
  applyEvent,
  checkoutOrder,
  eventFor,
  invoicesOf,
  ledgerOf,
  orderRefOf,
  subscriptionsOf,
  type TestOrder,
} from './support.ts'

// The period starts at the event's created_at (whole seconds) and lasts one month.
const periodOf = async (tx: Tx, createdAt: number) => {
  const [row] = await tx<{ start: Date; end: Date }[]>`
    select to_timestamp(${createdAt}) as start,
      (to_timestamp(${createdAt}) at time zone 'UTC' + interval '1 month') at time zone 'UTC'
          as end`
  if (!row) throw new Error('no period')
  return row
}

const deliverBoth = async (tx: Tx, order: TestOrder, first: 'payment.captured' | 'order.paid') => {
  const paymentId = razorpayId('pay')
  const second = first === 'payment.captured' ? 'order.paid' : 'payment.captured'
  const firstEvent = await eventFor(tx, first, order, { paymentId })
  const secondEvent = await eventFor(tx, second, order, {
    paymentId,
    createdAt: (firstEvent.created_at as number) + 2,
  })
  const ids = [razorpayId(''), razorpayId('')] as const
  const results = [
    await applyEvent(tx, ids[0], firstEvent),
    await applyEvent(tx, ids[1], secondEvent),
  ]
  return { ids, results, createdAt: firstEvent.created_at as number }
}

describe('apply_razorpay_event with payment.captured and order.paid of one payment', () => {
  it.for(['payment.captured', 'order.paid'] as const)(
    'activates the plan once and records one invoice when %s comes first',
    async (first, { sql, user }) => {
      await withRollback(sql, async (tx) => {
        const order = await checkoutOrder(tx, user.id)
        const { ids, results, createdAt } = await deliverBoth(tx, order, first)
        const period = await periodOf(tx, createdAt)

        const subscriptions = await subscriptionsOf(tx, user.id)
        expect(subscriptions).toHaveLength(1)
        const [subscription] = subscriptions
        expect(subscription).toMatchObject({
          plan_id: 'pro',
          status: 'active',
          provider: 'razorpay',
          current_period_start: period.start,
          current_period_end: period.end,
          billing_cycle_anchor: period.start,
        })
        expect(results[0]).toMatchObject({
          outcome: 'applied',
          subscription_id: subscription?.id,
          user_id: user.id,
          invoice_id: expect.any(String),
          event_id: ids[0],
          type: first,
        })
        // The second event finds the order applied: acknowledged, nothing new.
        expect(results[1]).toMatchObject({ outcome: 'applied', subscription_id: subscription?.id })
        expect(results[1]).not.toHaveProperty('invoice_id')
        expect(await invoicesOf(tx, user.id)).toMatchObject([
          {
            subscription_id: subscription?.id,
            number: order.orderId,
            status: 'paid',
            amount_paid: '2900',
            period_start: period.start,
            period_end: period.end,
            paid_at: period.start,
          },
        ])
        expect(await orderRefOf(tx, order.orderId)).toMatchObject({
          local_id: subscription?.id,
          last_event_id: ids[0],
        })
        for (const id of ids) {
          expect(await ledgerOf(tx, id)).toMatchObject({
            outcome: 'applied',
            processed: true,
            attempts: 1,
            error: null,
          })
        }
        expect(await ledgerOf(tx, ids[0])).toMatchObject({
          type: first,
          event_created_at: period.start,
        })
      })
    },
  )
})
