import { randomUUID } from 'node:crypto'
import { describe, expect } from 'vitest'
import { createUser, withRollback, type Tx } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'

const stored = async (tx: Tx, provider: string, eventId: string) => {
  const [row] = await tx<{ payload: any }[]>`
    select payload from tollgate_private.webhook_events where provider = ${provider} and event_id = ${eventId}`
  return row?.payload
}

/** The subjects column of the ledger row (what forget_user searches). */
const subjects = async (tx: Tx, provider: string, eventId: string) => {
  const [row] = await tx<{ subjects: string[] }[]>`
    select subjects from tollgate_private.webhook_events where provider = ${provider} and event_id = ${eventId}`
  return row?.subjects
}

/** A Stripe customer.updated event about `userId`'s customer, with their personal data. */
const customerEvent = (userId: string, customer: string) => ({
  id: `evt_${randomUUID().replaceAll('-', '')}`,
  object: 'event',
  type: 'customer.updated',
  created: Math.floor(Date.now() / 1000),
  data: {
    object: {
      id: customer,
      object: 'customer',
      email: 'ada@example.test',
      name: 'Ada Lovelace',
      phone: '+44 20 7946 0000',
      address: { line1: '12 St James Square', city: 'London' },
      balance: 0,
      metadata: { user_id: userId },
    },
  },
})

/** A Razorpay payment.captured event of an order Tollgate does not know, paid by `userId`. */
const razorpayPayment = (userId: string) => ({
  entity: 'event',
  event: 'payment.captured',
  created_at: Math.floor(Date.now() / 1000),
  contains: ['payment'],
  payload: {
    payment: {
      entity: {
        id: `pay_${randomUUID().replaceAll('-', '').slice(0, 14)}`,
        entity: 'payment',
        amount: 49900,
        currency: 'INR',
        status: 'captured',
        order_id: `order_${randomUUID().replaceAll('-', '').slice(0, 14)}`,
        email: 'ada@example.test',
        contact: '+919000090000',
        notes: { user_id: userId },
      },
    },
  },
})

describe('the webhook ledger and deleted users', () => {
  it('stores a Stripe event naming a deleted user without their name, email, phone, address, id or customer id; ids and amounts stay', async ({
    sql,
  }) => {
    await withRollback(sql, async (tx) => {
      const gone = await createUser(tx)
      await tx`delete from auth.users where id = ${gone.id}`
      const event = customerEvent(gone.id, 'cus_gone1234')

      await tx`select tollgate_private.apply_stripe_event(${JSON.stringify(event)}::text::jsonb)`

      const payload = await stored(tx, 'stripe', event.id)
      expect(payload.id).toBe(event.id)
      expect(payload.data.object).toEqual({
        id: '[forgotten]',
        object: 'customer',
        email: null,
        name: null,
        phone: null,
        address: null,
        balance: 0,
        metadata: { user_id: '[forgotten]' },
      })
      // The subjects column names what the stored payload names: not the forgotten user.
      expect(await subjects(tx, 'stripe', event.id)).toEqual(['[forgotten]'])
    })
  })

  it('stores the event of a user who exists as it came, its subjects the user and the customer', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const event = customerEvent(user.id, 'cus_here1234')
      await tx`select tollgate_private.apply_stripe_event(${JSON.stringify(event)}::text::jsonb)`
      expect(await stored(tx, 'stripe', event.id)).toEqual(event)
      expect(await subjects(tx, 'stripe', event.id)).toEqual(['cus_here1234', user.id].sort())
    })
  })

  it('stores a Razorpay payment of a deleted user that failed to apply without their email, phone or id', async ({
    sql,
  }) => {
    await withRollback(sql, async (tx) => {
      const gone = await createUser(tx)
      await tx`delete from auth.users where id = ${gone.id}`
      const event = razorpayPayment(gone.id)
      const eventId = `evt_${randomUUID().replaceAll('-', '').slice(0, 14)}`

      // Unknown order: the apply fails, and the webhook function notes the failure.
      await tx`savepoint apply`
      await tx`select tollgate_private.apply_razorpay_event(${eventId}, ${JSON.stringify(event)}::text::jsonb)`.catch(
        () => undefined,
      )
      await tx`rollback to savepoint apply`
      await tx`select tollgate_private.record_webhook_failure('razorpay', ${eventId}, 'payment.captured',
        ${JSON.stringify(event)}::text::jsonb, 'NOORD')`

      const entity = (await stored(tx, 'razorpay', eventId)).payload.payment.entity
      expect(entity).toMatchObject({
        id: event.payload.payment.entity.id,
        amount: 49900,
        email: null,
        contact: null,
        notes: { user_id: '[forgotten]' },
      })
      expect(await subjects(tx, 'razorpay', eventId)).toEqual(['[forgotten]'])
    })
  })
})
