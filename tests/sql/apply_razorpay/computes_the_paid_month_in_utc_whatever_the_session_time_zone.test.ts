import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { razorpayId } from '../../helpers/fake-razorpay.ts'
import { withRollback } from '../../helpers/db.ts'
import {
  applyEvent,
  checkoutOrder,
  eventFor,
  invoicesOf,
  subscriptionsOf,
  verifyPayment,
} from './support.ts'

// 2024-03-01 03:00 UTC is still February 29 in New York: month arithmetic in the session's zone
// would end the month on March 29/30 instead of April 1 03:00 UTC.
const PAID_AT = '2024-03-01T03:00:00.000Z'
const MONTH_LATER = new Date('2024-04-01T03:00:00.000Z')

describe('the month a Razorpay payment buys', () => {
  it('is one calendar month in UTC on verify-payment, whatever the session time zone', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      await tx`set local time zone 'America/New_York'`
      const order = await checkoutOrder(tx, user.id)
      await verifyPayment(tx, user.id, order.orderId, { asOf: PAID_AT })
      expect(await subscriptionsOf(tx, user.id)).toMatchObject([
        { current_period_start: new Date(PAID_AT), current_period_end: MONTH_LATER },
      ])
      expect(await invoicesOf(tx, user.id)).toMatchObject([{ period_end: MONTH_LATER }])
    })
  })

  it('is one calendar month in UTC through the webhook too (Auckland session)', async ({
    sql,
    users,
  }) => {
    // 2024-03-31 12:00 UTC is April 1 in Auckland: local arithmetic ends it April 30 13:00 UTC.
    const paidAt = '2024-03-31T12:00:00.000Z'
    const user = await users.create()
    await withRollback(sql, async (tx) => {
      await tx`set local time zone 'Pacific/Auckland'`
      const order = await checkoutOrder(tx, user.id)
      const createdAt = Date.parse(paidAt) / 1000
      await applyEvent(
        tx,
        razorpayId(''),
        await eventFor(tx, 'payment.captured', order, { createdAt }),
      )
      expect(await subscriptionsOf(tx, user.id)).toMatchObject([
        {
          current_period_start: new Date(paidAt),
          current_period_end: new Date('2024-04-30T12:00:00.000Z'),
        },
      ])
    })
  })
})
