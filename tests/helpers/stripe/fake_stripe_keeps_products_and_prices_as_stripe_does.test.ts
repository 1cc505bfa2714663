import type Stripe from 'stripe'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createStripeClient } from '../../../packages/providers/stripe/src/client.ts'
import { createFakeStripe, type FakeStripe } from '../fake-stripe.ts'

let fake: FakeStripe
let stripe: Stripe
beforeEach(async () => {
  fake = await createFakeStripe()
  stripe = createStripeClient(
    { STRIPE_SECRET_KEY: 'sk_test_fake', STRIPE_API_BASE: fake.url },
    { maxNetworkRetries: 0 },
  )
})
afterEach(() => fake.close())

const failureOf = async (promise: Promise<unknown>): Promise<Record<string, unknown>> => {
  try {
    await promise
  } catch (error) {
    return error as Record<string, unknown>
  }
  throw new Error('expected the call to fail')
}

const newPrice = (lookupKey: string, amount: number, transfer = false) =>
  stripe.prices.create({
    product: 'tollgate_pro',
    currency: 'usd',
    unit_amount: amount,
    recurring: { interval: 'month' },
    lookup_key: lookupKey,
    ...(transfer ? { transfer_lookup_key: true } : {}),
  })

describe('the fake Stripe catalog, driven by the real SDK', () => {
  it('creates a product with the id asked for, finds it, and refuses the id twice', async () => {
    const product = await stripe.products.create({
      id: 'tollgate_pro',
      name: 'Pro',
      metadata: { a: 'b' },
    })
    expect(product).toMatchObject({
      id: 'tollgate_pro',
      object: 'product',
      name: 'Pro',
      active: true,
    })
    expect((await stripe.products.retrieve('tollgate_pro')).metadata).toEqual({ a: 'b' })
    const twice = await failureOf(stripe.products.create({ id: 'tollgate_pro', name: 'Pro' }))
    expect(twice).toMatchObject({ statusCode: 400, code: 'resource_already_exists' })
    expect(await failureOf(stripe.products.retrieve('tollgate_none'))).toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
    })
  })

  it('keeps a lookup key on one price: a second claim fails unless it transfers the key', async () => {
    await stripe.products.create({ id: 'tollgate_pro', name: 'Pro' })
    const first = await newPrice('tollgate_pro', 2900)
    expect(first).toMatchObject({ lookup_key: 'tollgate_pro', unit_amount: 2900, active: true })
    expect(await failureOf(newPrice('tollgate_pro', 3900))).toMatchObject({
      statusCode: 400,
      param: 'lookup_key',
    })
    const second = await newPrice('tollgate_pro', 3900, true)
    const listed = await stripe.prices.list({ lookup_keys: ['tollgate_pro'] })
    expect(listed.data.map((p) => p.id)).toEqual([second.id])
    expect((await stripe.prices.retrieve(first.id)).lookup_key).toBeNull()
  })

  it('archives a price and refuses to change its amount (prices are immutable)', async () => {
    await stripe.products.create({ id: 'tollgate_pro', name: 'Pro' })
    const price = await newPrice('tollgate_pro', 2900)
    expect((await stripe.prices.update(price.id, { active: false })).active).toBe(false)
    const amount = await failureOf(
      stripe.prices.update(price.id, { unit_amount: 100 } as Stripe.PriceUpdateParams),
    )
    expect(amount).toMatchObject({ statusCode: 400, param: 'unit_amount' })
  })

  it('replays a price create with the same Idempotency-Key instead of making a second price', async () => {
    await stripe.products.create({ id: 'tollgate_pro', name: 'Pro' })
    const params = {
      product: 'tollgate_pro',
      currency: 'usd',
      unit_amount: 2900,
      recurring: { interval: 'month' as const },
    }
    const first = await stripe.prices.create(params, { idempotencyKey: 'k1' })
    const again = await stripe.prices.create(params, { idempotencyKey: 'k1' })
    expect(again.id).toBe(first.id)
    expect([...fake.state.prices.values()].filter((p) => p.product === 'tollgate_pro'))
      .toHaveLength(1)
  })
})
