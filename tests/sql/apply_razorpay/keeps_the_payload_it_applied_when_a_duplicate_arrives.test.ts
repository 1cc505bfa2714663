import { afterAll, describe, expect, it } from 'vitest'
import { razorpayId } from '../../helpers/fake-razorpay.ts'
import { ownerSql, withRollback } from '../../helpers/db.ts'
import { applyEvent, checkoutOrder, eventFor, ledgerOf, testUsers } from './support.ts'

const sql = ownerSql()
const users = testUsers(sql)
afterAll(async () => {
  await users.drop()
  await sql.end()
})

describe('apply_razorpay_event and the stored payload', () => {
  it('keeps the payload an event was applied from when a duplicate arrives', async () => {
    const user = await users.create()
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
