import type postgres from 'postgres'
import type { CatalogItem, RecordPrice } from './catalog.ts'

type Queryable = postgres.Sql | postgres.TransactionSql

type CatalogRow = {
  source: 'plan' | 'product'
  source_id: string
  name: string
  description: string | null
  amount: string
  currency: string
  interval: 'month' | 'year' | null
  stripe_price_id: string | null
}

/** The items `stripe:sync` keeps at Stripe, read through tollgate_private.stripe_catalog(). */
export const readCatalog = async (sql: Queryable): Promise<CatalogItem[]> => {
  const rows = await sql<CatalogRow[]>`
    select c.source, c.source_id, c.name, c.description, c.amount::text as amount, c.currency,
      c."interval", c.stripe_price_id
    from tollgate_private.stripe_catalog() c`
  return rows.map((row) => ({
    source: row.source,
    sourceId: row.source_id,
    name: row.name,
    description: row.description,
    amount: Number(row.amount),
    currency: row.currency,
    interval: row.interval,
    stripePriceId: row.stripe_price_id,
  }))
}

/**
 * Records an item's new current price in one transaction: record_plan_price for a plan,
 * record_product_price for a product (both keep the price history).
 */
export const recordCatalogPrice = (sql: Queryable): RecordPrice => async (item, priceId) => {
  const [row] = item.source === 'product'
    ? await sql<{ changed: boolean }[]>`
      select tollgate_private.record_product_price(${item.sourceId}, ${priceId},
        ${item.amount}::bigint, ${item.currency}) as changed`
    : await sql<{ changed: boolean }[]>`
      select tollgate_private.record_plan_price(${item.sourceId}, ${priceId}, ${item.amount}::bigint,
        ${item.currency}, ${item.interval}) as changed`
  return row?.changed ?? false
}
