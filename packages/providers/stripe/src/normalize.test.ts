import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  checkoutSubscriptionId,
  expandableId,
  isPreBasil,
  StripeCheckoutSessionObject,
  StripeEventEnvelope,
  StripeInvoiceObject,
  StripeSubscriptionObject,
  subscriptionToFetch,
} from './normalize.ts'

const fixture = (path: string): Record<string, any> =>
  JSON.parse(readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8'))

describe('the object schemas read every fixture Stripe published', () => {
  it.each([
    'subscription.json',
    'derived/subscription.active.json',
    'derived/subscription.past_due.json',
    'derived/subscription.canceled.json',
  ])('subscription %s', (path) => {
    expect(StripeSubscriptionObject.safeParse(fixture(path)).error).toBeUndefined()
  })

  it.each([
    'invoice.json',
    'derived/invoice.paid.subscription_create.json',
    'derived/invoice.open.payment_failed.json',
  ])('invoice %s', (path) => {
    expect(StripeInvoiceObject.safeParse(fixture(path)).error).toBeUndefined()
  })

  it.each(['checkout.session.json', 'derived/checkout.session.completed.subscription.json'])(
    'checkout session %s',
    (path) => {
      expect(StripeCheckoutSessionObject.safeParse(fixture(path)).error).toBeUndefined()
    },
  )

  it.each([
    'customer.subscription.created.json',
    'customer.subscription.updated.json',
    'customer.subscription.deleted.json',
    'invoice.finalized.json',
    'invoice.paid.json',
    'price.created.json',
    'product.created.json',
  ])('recorded API 2020-03-02 event %s', (path) => {
    const event = fixture(`recorded-api-2020-03-02/${path}`)
    expect(StripeEventEnvelope.safeParse(event).error).toBeUndefined()
    const object = event.data.object
    const schema = object.object === 'subscription'
      ? StripeSubscriptionObject
      : object.object === 'invoice'
      ? StripeInvoiceObject
      : null
    if (schema) expect(schema.safeParse(object).error).toBeUndefined()
  })

  it('reads the official event envelope (api_version null)', () => {
    expect(StripeEventEnvelope.safeParse(fixture('event.json')).error).toBeUndefined()
  })
})

describe('checkout helpers', () => {
  const session = fixture('derived/checkout.session.completed.subscription.json')

  it('names the subscription of a paid subscription-mode session', () => {
    expect(checkoutSubscriptionId(session)).toBe('sub_1Pgc6rB7WZ01zgkWNy0Cn5nw')
    expect(checkoutSubscriptionId({ ...session, payment_status: 'no_payment_required' })).toBe(
      'sub_1Pgc6rB7WZ01zgkWNy0Cn5nw',
    )
    expect(
      checkoutSubscriptionId({ ...session, subscription: { id: 'sub_x', object: 'subscription' } }),
    ).toBe(
      'sub_x',
    )
  })

  it('names none for unpaid, payment-mode or subscription-less sessions', () => {
    expect(checkoutSubscriptionId({ ...session, payment_status: 'unpaid' })).toBeNull()
    expect(checkoutSubscriptionId(fixture('checkout.session.json'))).toBeNull()
    expect(checkoutSubscriptionId({ ...session, subscription: null })).toBeNull()
  })

  it('fetches only for completed and async-succeeded checkouts', () => {
    const event = (type: string) => ({ type, data: { object: session } })
    expect(subscriptionToFetch(event('checkout.session.completed'))).toBe(
      'sub_1Pgc6rB7WZ01zgkWNy0Cn5nw',
    )
    expect(subscriptionToFetch(event('checkout.session.async_payment_succeeded'))).toBe(
      'sub_1Pgc6rB7WZ01zgkWNy0Cn5nw',
    )
    expect(subscriptionToFetch(event('checkout.session.async_payment_failed'))).toBeNull()
    expect(subscriptionToFetch(event('checkout.session.expired'))).toBeNull()
  })

  it('reads expandable ids', () => {
    expect(expandableId('cus_1')).toBe('cus_1')
    expect(expandableId({ id: 'cus_2' })).toBe('cus_2')
    expect(expandableId(null)).toBeNull()
    expect(expandableId({ id: 3 })).toBeNull()
  })
})

describe('isPreBasil', () => {
  it('tells legacy API versions from basil and later', () => {
    expect(isPreBasil('2020-03-02')).toBe(true)
    expect(isPreBasil('2025-02-24.acacia')).toBe(true)
    expect(isPreBasil('2025-03-31.basil')).toBe(false)
    expect(isPreBasil('2026-10-28.endive')).toBe(false)
    expect(isPreBasil(null)).toBe(false)
  })
})
