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

const sync = async (tx: Tx, dryRun = false): Promise<CatalogStep[]> =>
  syncCatalog({ stripe, items: await readCatalog(tx), record: recordCatalogPrice(tx), dryRun })

const posts = (): number => fake.state.requests.filter((r) => r.method === 'POST').length

const plansOf = (tx: Tx) =>
  tx<{ id: string; amount: string; stripe_price_id: string | null }[]>`
    select id, amount::text, stripe_price_id from tollgate.plans order by id`

const pricesOf = (tx: Tx) =>
  tx<{ price_id: string; plan_id: string; amount: string; active: boolean }[]>`
    select price_id, plan_id, amount::text, active from tollgate_private.plan_prices order by plan_id, active, price_id`

const planOfPrice = async (tx: Tx, priceId: string): Promise<string | null> => {
  const [row] = await tx<{ plan_id: string | null }[]>`
    select tollgate_private.plan_of_stripe_price(${priceId}) as plan_id`
  return row?.plan_id ?? null
}

const keyedPrice = (lookupKey: string) =>
  [...fake.state.prices.entries()].filter(([, price]) => price.lookup_key === lookupKey)

describe('npm run stripe:sync', () => {
  it('creates a product and a price per paid plan on a fresh account and records them', async () => {
    await withRollback(sql, async (tx) => {
      const steps = await sync(tx)
      // The seeded product comes after the plans (products have their own test file).
      expect(steps.filter((s) => s.kind === 'create_product').map((s) => s.item)).toEqual([
        'plan pro',
        'plan enterprise',
        'product api_calls_pack',
      ])
      expect(steps.filter((s) => s.kind === 'create_price')).toHaveLength(3)
      expect([...fake.state.products.keys()].sort()).toEqual([
        'tollgate_api_calls_pack',
        'tollgate_enterprise',
        'tollgate_pro',
      ])
      expect(fake.state.products.get('tollgate_pro')?.metadata).toEqual({ tollgate_plan_id: 'pro' })
      expect(fake.requestsTo('POST', '/v1/prices')).toHaveLength(3)

      const [pro] = keyedPrice('tollgate_pro')
      const [enterprise] = keyedPrice('tollgate_enterprise')
      expect(pro?.[1]).toMatchObject({
        unit_amount: 2900,
        currency: 'usd',
        interval: 'month',
        product: 'tollgate_pro',
        active: true,
        metadata: { tollgate_plan_id: 'pro' },
      })
      expect(enterprise?.[1]).toMatchObject({ unit_amount: 9900, product: 'tollgate_enterprise' })
      const plans = await plansOf(tx)
      expect(plans.find((p) => p.id === 'pro')?.stripe_price_id).toBe(pro?.[0])
      expect(plans.find((p) => p.id === 'enterprise')?.stripe_price_id).toBe(enterprise?.[0])
      expect(plans.find((p) => p.id === 'free')?.stripe_price_id).toBeNull()

      // The seeded placeholder prices are archived at Stripe and stay mapped to their plans.
      expect(fake.state.prices.get('price_pro_monthly')?.active).toBe(false)
      expect(await pricesOf(tx)).toEqual([
        {
          price_id: 'price_enterprise_monthly',
          plan_id: 'enterprise',
          amount: '9900',
          active: false,
        },
        { price_id: enterprise?.[0], plan_id: 'enterprise', amount: '9900', active: true },
        { price_id: 'price_pro_monthly', plan_id: 'pro', amount: '2900', active: false },
        { price_id: pro?.[0], plan_id: 'pro', amount: '2900', active: true },
      ])
      expect(await planOfPrice(tx, 'price_pro_monthly')).toBe('pro')
    })
  })

  it('changes nothing at Stripe or in the database on a second run', async () => {
    await withRollback(sql, async (tx) => {
      await sync(tx)
      const before = { posts: posts(), plans: await plansOf(tx), prices: await pricesOf(tx) }
      const steps = await sync(tx)
      expect(steps).toEqual([])
      expect(posts()).toBe(before.posts)
      expect(await plansOf(tx)).toEqual(before.plans)
      expect(await pricesOf(tx)).toEqual(before.prices)
    })
  })

  it('replaces a changed price: a new price takes the lookup key, the old one is archived and stays mapped', async () => {
    await withRollback(sql, async (tx) => {
      await sync(tx)
      const [oldId] = keyedPrice('tollgate_pro')[0] ?? ['']
      await tx`update tollgate.plans set amount = 3900 where id = 'pro'`
      const steps = await sync(tx)
      expect(steps.map((s) => s.kind)).toEqual(['create_price', 'archive_price', 'record_price'])

      const keyed = keyedPrice('tollgate_pro')
      expect(keyed).toHaveLength(1)
      const [newId, newPrice] = keyed[0] ?? ['', null]
      expect(newId).not.toBe(oldId)
      expect(newPrice?.unit_amount).toBe(3900)
      expect(fake.state.prices.get(oldId)).toMatchObject({ active: false, lookup_key: null })
      expect((await plansOf(tx)).find((p) => p.id === 'pro')?.stripe_price_id).toBe(newId)
      const history = (await pricesOf(tx)).filter((p) => p.plan_id === 'pro')
      expect(history).toHaveLength(3)
      expect(history).toEqual(
        expect.arrayContaining([
          { price_id: 'price_pro_monthly', plan_id: 'pro', amount: '2900', active: false },
          { price_id: oldId, plan_id: 'pro', amount: '2900', active: false },
          { price_id: newId, plan_id: 'pro', amount: '3900', active: true },
        ]),
      )
      expect(await planOfPrice(tx, oldId)).toBe('pro')

      const settled = posts()
      expect(await sync(tx)).toEqual([])
      expect(posts()).toBe(settled)
    })
  })

  it('creates no second price when rerun after a run that failed half-way', async () => {
    await withRollback(sql, async (tx) => {
      fake.fail('POST', '/v1/prices/price_pro_monthly', { status: 500 })
      await expect(sync(tx)).rejects.toThrow()
      expect(keyedPrice('tollgate_pro')).toHaveLength(1)
      expect((await plansOf(tx)).find((p) => p.id === 'pro')?.stripe_price_id).toBe(
        'price_pro_monthly',
      )

      await sync(tx)
      const onProduct = [...fake.state.prices.values()].filter((p) => p.product === 'tollgate_pro')
      expect(onProduct).toHaveLength(1)
      expect(fake.state.prices.get('price_pro_monthly')?.active).toBe(false)
      const [current] = keyedPrice('tollgate_pro')[0] ?? ['']
      expect((await plansOf(tx)).find((p) => p.id === 'pro')?.stripe_price_id).toBe(current)
    })
  })

  it('updates a renamed product in place and replaces the price of a plan moved to yearly', async () => {
    await withRollback(sql, async (tx) => {
      await sync(tx)
      await tx`update tollgate.plans set name = 'Pro Plus', "interval" = 'year' where id = 'pro'`
      const steps = await sync(tx)
      expect(steps.map((s) => `${s.item} ${s.kind}`)).toEqual([
        'plan pro update_product',
        'plan pro create_price',
        'plan pro archive_price',
        'plan pro record_price',
      ])
      expect(fake.state.products.get('tollgate_pro')?.name).toBe('Pro Plus')
      expect(keyedPrice('tollgate_pro')[0]?.[1]).toMatchObject({ interval: 'year', active: true })
      expect(fake.requestsTo('POST', '/v1/products')).toHaveLength(3)
      const settled = posts()
      expect(await sync(tx)).toEqual([])
      expect(posts()).toBe(settled)
    })
  })

  it('leaves free and inactive plans out of the catalog', async () => {
    await withRollback(sql, async (tx) => {
      await tx`update tollgate.plans set active = false where id = 'enterprise'`
      await sync(tx)
      expect([...fake.state.products.keys()]).toEqual(['tollgate_pro', 'tollgate_api_calls_pack'])
    })
  })

  it('refuses to record a price that belongs to another plan (TGCFG)', async () => {
    await withRollback(sql, async (tx) => {
      const error = await pgError(
        tx`select tollgate_private.record_plan_price('pro', 'price_enterprise_monthly', 2900, 'usd', 'month')`,
      )
      expect(error.code).toBe('TGCFG')
    })
  })

  it('--dry-run lists the changes and touches neither Stripe nor the database', async () => {
    await withRollback(sql, async (tx) => {
      const before = { plans: await plansOf(tx), prices: await pricesOf(tx) }
      const steps = await sync(tx, true)
      expect(steps.map((s) => `${s.item} ${s.kind}`)).toEqual([
        'plan pro create_product',
        'plan pro create_price',
        'plan pro archive_price',
        'plan pro record_price',
        'plan enterprise create_product',
        'plan enterprise create_price',
        'plan enterprise archive_price',
        'plan enterprise record_price',
        'product api_calls_pack create_product',
        'product api_calls_pack create_price',
        'product api_calls_pack archive_price',
        'product api_calls_pack record_price',
      ])
      expect(posts()).toBe(0)
      expect(fake.state.products.size).toBe(0)
      expect(await plansOf(tx)).toEqual(before.plans)
      expect(await pricesOf(tx)).toEqual(before.prices)
    })
  })
})
