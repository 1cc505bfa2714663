import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { razorpayId } from '../../helpers/fake-razorpay.ts'
import { fixtureJson } from '../../../packages/providers/razorpay/fixtures/load.ts'
import { pgError, withRollback } from '../../helpers/db.ts'
import {
  applyEvent,
  checkoutOrder,
  eventFor,
  invoicesOf,
  ledgerOf,
  orderRefOf,
  subscriptionsOf,
} from './support.ts'

describe('apply_razorpay_event and its ledger', () => {
  it('applies an event id once: the same delivery again is a duplicate that changes nothing', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const order = await checkoutOrder(tx, user.id)
      const eventId = razorpayId('')
      const event = await eventFor(tx, 'payment.captured', order)
      expect(await applyEvent(tx, eventId, event)).toMatchObject({ outcome: 'applied' })
      const before = {
        subscriptions: await subscriptionsOf(tx, user.id),
        invoices: await invoicesOf(tx, user.id),
      }

      for (const attempt of [2, 3]) {
        expect(await applyEvent(tx, eventId, event)).toEqual({
          outcome: 'duplicate',
          event_id: eventId,
          type: 'payment.captured',
        })
        expect(await ledgerOf(tx, eventId)).toMatchObject({ outcome: 'applied', attempts: attempt })
      }
      expect(await subscriptionsOf(tx, user.id)).toEqual(before.subscriptions)
      expect(await invoicesOf(tx, user.id)).toEqual(before.invoices)
      expect(before.invoices).toHaveLength(1)
    })
  })

  it('records payment.failed as ignored and leaves the order open for another attempt', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const order = await checkoutOrder(tx, user.id)
      const failedId = razorpayId('')
      expect(
        await applyEvent(tx, failedId, await eventFor(tx, 'payment.failed', order)),
      ).toMatchObject({
        outcome: 'ignored',
        error: 'Payment failed',
      })
      expect(await ledgerOf(tx, failedId)).toMatchObject({
        type: 'payment.failed',
        outcome: 'ignored',
        processed: true,
        error: 'Payment failed',
      })
      expect(await subscriptionsOf(tx, user.id)).toEqual([])
      expect(await orderRefOf(tx, order.orderId)).toMatchObject({ local_id: null })

      expect(
        await applyEvent(tx, razorpayId(''), await eventFor(tx, 'payment.captured', order)),
      ).toMatchObject({
        outcome: 'applied',
      })
      expect(await subscriptionsOf(tx, user.id)).toMatchObject([
        { plan_id: 'pro', status: 'active' },
      ])
    })
  })

  it('records event types it does not act on as ignored (official subscription.charged sample)', async ({
    sql,
  }) => {
    await withRollback(sql, async (tx) => {
      const eventId = razorpayId('')
      const sample = fixtureJson<Record<string, unknown>>('webhooks/subscription.charged.json')
      expect(await applyEvent(tx, eventId, sample)).toEqual({
        outcome: 'ignored',
        event_id: eventId,
        type: 'subscription.charged',
      })
      expect(await ledgerOf(tx, eventId)).toMatchObject({ outcome: 'ignored', processed: true })
    })
  })

  it('refuses a body without event or payload, or without an event id (BADEV)', async ({ sql }) => {
    await withRollback(sql, async (tx) => {
      expect((await pgError(applyEvent(tx, razorpayId(''), { payload: {} }))).code).toBe('BADEV')
    })
    await withRollback(sql, async (tx) => {
      expect(
        (await pgError(applyEvent(tx, razorpayId(''), { event: 'payment.captured' }))).code,
      ).toBe('BADEV')
    })
    await withRollback(sql, async (tx) => {
      const event = { event: 'payment.captured', payload: {} }
      expect((await pgError(applyEvent(tx, '', event))).code).toBe('BADEV')
    })
  })
})
