import { afterAll, describe, expect, it } from 'vitest'
import { createUser, ownerSql, pgError, withRollback } from '../../helpers/db.ts'
import { makeStripeEvent, type StripeJson } from '../../helpers/stripe/events.ts'
import {
  checkoutSessionFixture,
  invoiceFixture,
  newWorld,
  subscriptionFixture,
} from '../../helpers/stripe/fixtures.ts'
import { applyEvent, ledgerRow } from './support.ts'

const sql = ownerSql()
afterAll(() => sql.end())

const envelope = (change: (event: StripeJson) => void): StripeJson => {
  const event = makeStripeEvent('customer.subscription.created', {
    id: 'sub_x',
    object: 'subscription',
  })
  change(event)
  return event
}

describe('apply_stripe_event refuses what is not a Stripe event (BADEV)', () => {
  it.each([
    ['no id', envelope((e) => delete e.id)],
    ['an id without evt_', envelope((e) => (e.id = 'cus_123'))],
    ['no type', envelope((e) => delete e.type)],
    ['no created', envelope((e) => delete e.created)],
    ['created as text', envelope((e) => (e.created = '1700000000'))],
    ['data.object missing', envelope((e) => (e.data = {}))],
    ['data.object as text', envelope((e) => (e.data = { object: 'sub_x' }))],
  ])('refuses an event with %s and records nothing (BADEV)', async (_name, event) => {
    await withRollback(sql, async (tx) => {
      expect((await pgError(applyEvent(tx, event))).code).toBe('BADEV')
    })
    if (typeof event.id === 'string') {
      await withRollback(sql, async (tx) => expect(await ledgerRow(tx, event.id)).toBeUndefined())
    }
  })

  it('refuses a subscription event whose object is not a subscription (BADEV)', async () => {
    await withRollback(sql, async (tx) => {
      const world = newWorld((await createUser(tx)).id)
      const subscription = subscriptionFixture(world)
      subscription.id = 'in_not_a_subscription'
      const event = makeStripeEvent('customer.subscription.updated', subscription)
      expect((await pgError(applyEvent(tx, event))).code).toBe('BADEV')
    })
  })

  it('refuses an invoice event whose invoice id is not in_ (BADEV)', async () => {
    await withRollback(sql, async (tx) => {
      const world = newWorld((await createUser(tx)).id)
      const invoice = invoiceFixture(world)
      invoice.id = 'sub_wrong'
      expect((await pgError(applyEvent(tx, makeStripeEvent('invoice.paid', invoice)))).code).toBe(
        'BADEV',
      )
    })
  })

  it('refuses a checkout whose related subscription is not the one it created (BADEV)', async () => {
    await withRollback(sql, async (tx) => {
      const world = newWorld((await createUser(tx)).id)
      const other = newWorld(world.userId)
      const event = makeStripeEvent('checkout.session.completed', checkoutSessionFixture(world))
      const error = await pgError(
        applyEvent(tx, event, { subscription: subscriptionFixture(other) }),
      )
      expect(error.code).toBe('BADEV')
    })
  })
})
