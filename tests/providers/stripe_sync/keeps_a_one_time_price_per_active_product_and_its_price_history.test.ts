import type Stripe from 'stripe'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type CatalogStep, syncCatalog } from '../../../packages/providers/stripe/src/catalog.ts'
import {
  readCatalog,
  recordCatalogPrice,
} from '../../../packages/providers/stripe/src/catalog-db.ts'
import { createStripeClient } from '../../../packages/providers/stripe/src/client.ts'
import { ownerSql, pgError, type Tx, withRollback } from '../../helpers/db.ts'
import { createFakeStripe, type FakeStripe } from '../../helpers/fake-stripe.ts'

const sql = ownerSql()
afterAll(() => sql.end())

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

const PACK = 'api_calls_pack'
const KEY = 'tollgate_api_calls_pack'

const sync = async (tx: Tx, dryRun = false): Promise<CatalogStep[]> =>
  syncCatalog({ stripe, items: await readCatalog(tx), record: recordCatalogPrice(tx), dryRun })

/** Only the product's steps, as `<kind>` (the plans are the other test file's). */
const productSteps = (steps: CatalogStep[]): string[] =>
  steps.filter((s) => s.item === `product ${PACK}`).map((s) => s.kind)

const posts = (): number => fake.state.requests.filter((r) => r.method === 'POST').length

const packOf = async (tx: Tx) => {
  const [row] = await tx<{ amount: string; stripe_price_id: string | null }[]>`
    select amount::text, stripe_price_id from tollgate.products where id = ${PACK}`
  return row
}

const historyOf = (tx: Tx) =>
  tx<{ price_id: string; amount: string; active: boolean }[]>`
    select price_id, amount::text, active from tollgate_private.product_prices
    where product_id = ${PACK} order by active, created_at, price_id`

const productOfPrice = async (tx: Tx, priceId: string): Promise<string | null> => {
  const [row] = await tx<{ product_id: string | null }[]>`
    select tollgate_private.product_of_stripe_price(${priceId}) as product_id`
  return row?.product_id ?? null
}

const keyed = () =>
  [...fake.state.prices.entries()].filter(([, price]) => price.lookup_key === KEY)

describe('npm run stripe:sync and tollgate.products', () => {
  it('creates a product with a one-time price for the seeded product and records it', async () => {
    await withRollback(sql, async (tx) => {
      const steps = await sync(tx)
      expect(productSteps(steps)).toEqual([
        'create_product',
        'create_price',
        'archive_price',
        'record_price',
      ])
      expect(fake.state.products.get(KEY)).toMatchObject({
        name: 'API calls pack',
        active: true,
        metadata: { tollgate_product_id: PACK },
      })
      const created = fake
        .requestsTo('POST', '/v1/prices')
        .find((r) => r.params.product === KEY)
      expect(created?.params.recurring).toBeUndefined()
      expect(created?.idempotencyKey).toMatch(/^tollgate:catalog:price:/)

      const [[priceId, price] = ['', null]] = keyed()
      expect(price).toMatchObject({
        unit_amount: 1000,
        currency: 'usd',
        interval: null,
        product: KEY,
        active: true,
        metadata: { tollgate_product_id: PACK },
      })
      expect((await stripe.prices.retrieve(priceId)).type).toBe('one_time')
      expect(await packOf(tx)).toEqual({ amount: '1000', stripe_price_id: priceId })
      // The seeded placeholder is archived at Stripe and stays in the price history.
      expect(fake.state.prices.get('price_api_calls_pack')?.active).toBe(false)
      expect(await historyOf(tx)).toEqual([
        { price_id: 'price_api_calls_pack', amount: '1000', active: false },
        { price_id: priceId, amount: '1000', active: true },
      ])
      expect(await productOfPrice(tx, 'price_api_calls_pack')).toBe(PACK)
      expect(await productOfPrice(tx, priceId)).toBe(PACK)
      expect(await productOfPrice(tx, 'price_pro_monthly')).toBeNull()
    })
  })

  it('changes nothing at Stripe or in the database on a second run', async () => {
    await withRollback(sql, async (tx) => {
      await sync(tx)
      const before = { posts: posts(), pack: await packOf(tx), history: await historyOf(tx) }
      expect(await sync(tx)).toEqual([])
      expect(posts()).toBe(before.posts)
      expect(await packOf(tx)).toEqual(before.pack)
      expect(await historyOf(tx)).toEqual(before.history)
    })
  })

  it('updates a renamed product in place and keeps its price', async () => {
    await withRollback(sql, async (tx) => {
      await sync(tx)
      const price = (await packOf(tx))?.stripe_price_id
      await tx`update tollgate.products set name = 'Calls pack', description = 'More calls.'
        where id = ${PACK}`
      expect(productSteps(await sync(tx))).toEqual(['update_product'])
      expect(fake.state.products.get(KEY)).toMatchObject({
        name: 'Calls pack',
        description: 'More calls.',
      })
      expect((await packOf(tx))?.stripe_price_id).toBe(price)
      const settled = posts()
      expect(await sync(tx)).toEqual([])
      expect(posts()).toBe(settled)
    })
  })

  it('replaces the price of a changed amount: the new one takes the lookup key, the old one is archived and stays mapped', async () => {
    await withRollback(sql, async (tx) => {
      await sync(tx)
      const [[oldId] = ['']] = keyed()
      await tx`update tollgate.products set amount = 1500 where id = ${PACK}`
      expect(productSteps(await sync(tx))).toEqual(['create_price', 'archive_price', 'record_price'])

      expect(keyed()).toHaveLength(1)
      const [[newId, newPrice] = ['', null]] = keyed()
      expect(newId).not.toBe(oldId)
      expect(newPrice).toMatchObject({ unit_amount: 1500, interval: null, active: true })
      expect(fake.state.prices.get(oldId)).toMatchObject({ active: false, lookup_key: null })
      expect(await packOf(tx)).toEqual({ amount: '1500', stripe_price_id: newId })
      expect(await historyOf(tx)).toEqual([
        { price_id: 'price_api_calls_pack', amount: '1000', active: false },
        { price_id: oldId, amount: '1000', active: false },
        { price_id: newId, amount: '1500', active: true },
      ])
      expect(await productOfPrice(tx, oldId)).toBe(PACK)

      const settled = posts()
      expect(await sync(tx)).toEqual([])
      expect(posts()).toBe(settled)
    })
  })

  it("replaces a recurring price that holds the product's lookup key with a one-time one", async () => {
    await withRollback(sql, async (tx) => {
      await stripe.products.create({
        id: KEY,
        name: 'API calls pack',
        description:
          "50,000 extra API calls, used once your plan's monthly calls are spent; valid for a year.",
        metadata: { tollgate_product_id: PACK },
      })
      const wrong = await stripe.prices.create({
        product: KEY,
        currency: 'usd',
        unit_amount: 1000,
        recurring: { interval: 'month' },
        lookup_key: KEY,
      })
      expect(productSteps(await sync(tx))).toEqual([
        'create_price',
        'archive_price',
        'archive_price',
        'record_price',
      ])
      const [[current, price] = ['', null]] = keyed()
      expect(current).not.toBe(wrong.id)
      expect(price?.interval).toBeNull()
      expect(fake.state.prices.get(wrong.id)?.active).toBe(false)
    })
  })

  it('leaves an inactive product alone', async () => {
    await withRollback(sql, async (tx) => {
      await tx`update tollgate.products set active = false where id = ${PACK}`
      const steps = await sync(tx)
      expect(productSteps(steps)).toEqual([])
      expect(fake.state.products.has(KEY)).toBe(false)
      expect(fake.requestsTo('POST', '/v1/prices').map((r) => r.params.product)).not.toContain(KEY)
      expect(await packOf(tx)).toEqual({ amount: '1000', stripe_price_id: 'price_api_calls_pack' })
      expect(fake.state.prices.get('price_api_calls_pack')?.active ?? true).toBe(true)
    })
  })

  it("--dry-run lists the product's changes and touches neither Stripe nor the database", async () => {
    await withRollback(sql, async (tx) => {
      const before = { pack: await packOf(tx), history: await historyOf(tx) }
      const steps = await sync(tx, true)
      expect(productSteps(steps)).toEqual([
        'create_product',
        'create_price',
        'archive_price',
        'record_price',
      ])
      expect(posts()).toBe(0)
      expect(fake.state.products.size).toBe(0)
      expect(await packOf(tx)).toEqual(before.pack)
      expect(await historyOf(tx)).toEqual(before.history)
    })
  })

  it('refuses a plan and a product of the same id before touching Stripe', async () => {
    await withRollback(sql, async (tx) => {
      await tx`insert into tollgate.products (id, name, amount, currency, metric, credits)
        values ('pro', 'Pro pack', 500, 'usd', 'api_calls', 1000)`
      await expect(sync(tx)).rejects.toThrow(/both named pro/)
      expect(fake.state.requests).toEqual([])
    })
  })

  it('never records one Stripe price for both a plan and a product (TGCFG)', async () => {
    await withRollback(sql, async (tx) => {
      const product = await pgError(
        tx`select tollgate_private.record_product_price(${PACK}, 'price_pro_monthly', 1000, 'usd')`,
      )
      expect(product.code).toBe('TGCFG')
    })
    await withRollback(sql, async (tx) => {
      const plan = await pgError(
        tx`select tollgate_private.record_plan_price('pro', 'price_api_calls_pack', 2900, 'usd', 'month')`,
      )
      expect(plan.code).toBe('TGCFG')
    })
  })
})
