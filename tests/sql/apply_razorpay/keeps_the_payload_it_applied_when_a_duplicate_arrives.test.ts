import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { razorpayId } from '../../helpers/fake-razorpay.ts'
import { withRollback } from '../../helpers/db.ts'
import { applyEvent, checkoutOrder, eventFor, ledgerOf } from './support.ts'

describe('apply_razorpay_event and the stored payload', () => {
  it('keeps the payload an event was applied from when a duplicate arrives', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const order = await checkoutOrder(tx, user.id)
      const eventId = razorpayId('')
      const event = await eventFor(tx, 'payment.captured', order)
      expect(await applyEvent(tx, eventId, event)).toMatchObject({ outcome: 'applied' })
      const redelivered = { ...event, contains: ['payment', 'redelivered'] }
      expect(await applyEvent(tx, eventId, redelivered)).toMatchObject({ outcome: 'duplicate' })
      const [row] = await tx<{ payload: unknown }[]>`
        select payload from tollgate_private.webhook_events
        where provider = 'razorpay' and event_id = ${eventId}`
      expect(row?.payload).toEqual(event)
      expect(await ledgerOf(tx, eventId)).toMatchObject({ attempts: 2, processed: true })
    })
  })
})
