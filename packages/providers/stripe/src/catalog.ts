import type Stripe from 'stripe'
import { idempotencyKey, stripeFailureOf } from './client.ts'

/** One thing Tollgate sells that must exist at Stripe as a product with one current price. */
export type CatalogItem = {
  /** Where the item comes from: a plan (recurring price) or a product (one-time price). */
  source: 'plan' | 'product'
  /** The item's id in its source (the plan or product slug). */
  sourceId: string
  name: string
  description: string | null
  /** Minor units per interval (a plan) or per unit (a product). */
  amount: number
  currency: string
  /** The billing interval of a plan; null for a product, whose price is one-time. */
  interval: 'month' | 'year' | null
  /** The Stripe price the database records as current, if any. */
  stripePriceId: string | null
}

/** One change the sync makes (or, in a dry run, would make). */
export type CatalogStep =
  | { kind: 'create_product'; item: string; productId: string }
  | { kind: 'update_product'; item: string; productId: string }
  | { kind: 'create_price'; item: string; productId: string; lookupKey: string }
  | { kind: 'archive_price'; item: string; priceId: string }
  | { kind: 'record_price'; item: string; priceId: string | null; previous: string | null }

/** What the sync writes back: makes `priceId` the item's current price (returns false when it was). */
export type RecordPrice = (item: CatalogItem, priceId: string) => Promise<boolean>

/** Options of `syncCatalog`. */
export type SyncCatalogOptions = {
  stripe: Stripe
  items: CatalogItem[]
  record: RecordPrice
  /** Only read Stripe and report the steps; no POST and no database write. */
  dryRun?: boolean
}

/** The Stripe product id of an item: deterministic, so a rerun finds it (`tollgate_<id>`). */
export const productIdOf = (item: CatalogItem): string => `tollgate_${item.sourceId}`

/** The lookup key the item's current price carries (`tollgate_<id>`). */
export const lookupKeyOf = (item: CatalogItem): string => `tollgate_${item.sourceId}`

const metadataOf = (item: CatalogItem): Record<string, string> => ({
  [`tollgate_${item.source}_id`]: item.sourceId,
})

const label = (item: CatalogItem): string => `${item.source} ${item.sourceId}`

const isMissing = (error: unknown): boolean => stripeFailureOf(error)?.status === 404

const retrieveProduct = async (stripe: Stripe, id: string): Promise<Stripe.Product | null> => {
  try {
    return await stripe.products.retrieve(id)
  } catch (error) {
    if (isMissing(error)) return null
    throw error
  }
}

const retrievePrice = async (stripe: Stripe, id: string): Promise<Stripe.Price | null> => {
  try {
    return await stripe.prices.retrieve(id)
  } catch (error) {
    if (isMissing(error)) return null
    throw error
  }
}

/** True when `price` bills exactly what the item says, on the item's product. */
export const priceMatches = (
  price: Stripe.Price,
  item: CatalogItem,
  productId: string,
): boolean => {
  const product = typeof price.product === 'string' ? price.product : price.product?.id
  const billing = item.interval === null
    ? price.type === 'one_time' && !price.recurring
    : price.type === 'recurring' &&
      price.recurring?.interval === item.interval &&
      (price.recurring?.interval_count ?? 1) === 1
  return (
    price.active &&
    billing &&
    price.unit_amount === item.amount &&
    price.currency === item.currency &&
    product === productId
  )
}

const productMatches = (product: Stripe.Product, item: CatalogItem): boolean =>
  product.active &&
  product.name === item.name &&
  (product.description ?? null) === (item.description || null) &&
  Object.entries(metadataOf(item)).every(([key, value]) => product.metadata[key] === value)

/**
 * Brings one item's product and price at Stripe in line with the database and records the price:
 * a missing product is created (id `tollgate_<id>`), a changed one updated; a price that no longer
 * matches is replaced (Stripe prices are immutable): the new one takes the lookup key, the old one
 * is archived, and the database moves to it. Every create carries an Idempotency-Key derived from
 * the item's facts and the price it replaces, so a rerun after a crash creates nothing twice.
 */
export const syncCatalogItem = async (
  options: Omit<SyncCatalogOptions, 'items'> & { item: CatalogItem },
): Promise<CatalogStep[]> => {
  const { stripe, item, record, dryRun = false } = options
  const steps: CatalogStep[] = []
  const productId = productIdOf(item)
  const lookupKey = lookupKeyOf(item)
  const metadata = metadataOf(item)

  const product = await retrieveProduct(stripe, productId)
  if (product === null) {
    steps.push({ kind: 'create_product', item: label(item), productId })
    if (!dryRun) {
      const params: Stripe.ProductCreateParams = { id: productId, name: item.name, metadata }
      if (item.description) params.description = item.description
      await stripe.products.create(params, {
        idempotencyKey: idempotencyKey(
          'catalog',
          'product',
          productId,
          item.name,
          item.description,
        ),
      })
    }
  } else if (!productMatches(product, item)) {
    steps.push({ kind: 'update_product', item: label(item), productId })
    if (!dryRun) {
      await stripe.products.update(productId, {
        name: item.name,
        description: item.description || '',
        active: true,
        metadata,
      })
    }
  }

  // The price holding the lookup key is the item's price at Stripe; the database's may differ.
  const [keyed] = (await stripe.prices.list({ lookup_keys: [lookupKey], limit: 1 })).data
  const stored = item.stripePriceId === null || item.stripePriceId === keyed?.id
    ? null
    : await retrievePrice(stripe, item.stripePriceId)

  let current: string | null = null
  if (keyed && priceMatches(keyed, item, productId)) {
    current = keyed.id
  } else {
    steps.push({ kind: 'create_price', item: label(item), productId, lookupKey })
    if (!dryRun) {
      const created = await stripe.prices.create(
        {
          product: productId,
          currency: item.currency,
          unit_amount: item.amount,
          // A plan's price recurs; a product's is one-time (no recurring at all).
          ...(item.interval !== null ? { recurring: { interval: item.interval } } : {}),
          lookup_key: lookupKey,
          transfer_lookup_key: true,
          metadata,
        },
        {
          idempotencyKey: idempotencyKey(
            'catalog',
            'price',
            lookupKey,
            item.amount,
            item.currency,
            item.interval ?? 'one_time',
            keyed?.id ?? item.stripePriceId,
          ),
        },
      )
      current = created.id
    }
  }

  // Replaced prices are archived: new checkouts cannot pick them, their subscribers keep them.
  for (const old of [keyed, stored]) {
    if (!old || !old.active || old.id === current) continue
    steps.push({ kind: 'archive_price', item: label(item), priceId: old.id })
    if (!dryRun) {
      await stripe.prices.update(old.id, { active: false }, {
        idempotencyKey: idempotencyKey('catalog', 'archive', old.id),
      })
    }
  }

  if (current !== item.stripePriceId) {
    steps.push({
      kind: 'record_price',
      item: label(item),
      priceId: current,
      previous: item.stripePriceId,
    })
    if (!dryRun && current !== null) await record(item, current)
  }
  return steps
}

/** `syncCatalogItem` for every item, in order; the steps of all of them. */
export const syncCatalog = async (options: SyncCatalogOptions): Promise<CatalogStep[]> => {
  // Plans and products share Stripe's product ids and lookup keys (`tollgate_<id>`).
  const ids = options.items.map((item) => item.sourceId)
  const clash = ids.find((id, index) => ids.indexOf(id) !== index)
  if (clash !== undefined) {
    throw new Error(`a plan and a product are both named ${clash}: rename one (ids name Stripe products)`)
  }
  const steps: CatalogStep[] = []
  for (const item of options.items) {
    steps.push(...(await syncCatalogItem({ ...options, item })))
  }
  return steps
}

/** One line per step, as `stripe:sync` prints them. */
export const describeStep = (step: CatalogStep): string => {
  switch (step.kind) {
    case 'create_product':
      return `${step.item}: create product ${step.productId}`
    case 'update_product':
      return `${step.item}: update product ${step.productId}`
    case 'create_price':
      return `${step.item}: create price on ${step.productId} with lookup key ${step.lookupKey}`
    case 'archive_price':
      return `${step.item}: archive price ${step.priceId}`
    case 'record_price':
      return `${step.item}: update ${step.item.split(' ')[0]} row, stripe_price_id ${step.previous ?? '(none)'} -> ${
        step.priceId ?? '(the new price)'
      }`
  }
}
