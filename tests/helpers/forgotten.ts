import { asAdmin, asUser, type Sql } from './db.ts'
import {
  consume,
  createCoupon,
  paidStripeCheckout,
  type BillingHarness,
  type Caller,
} from './billing.ts'
import { paidStripePurchase } from './purchases.ts'

/** What identifies a user in Tollgate's rows: their id, email and provider customer ids. */
export const identifiersOf = async (sql: Sql, user: Caller): Promise<string[]> => {
  const customers = await sql<{ id: string }[]>`
    select provider_customer_id as id from tollgate_private.customers where user_id = ${user.id}`
  return [user.id, user.email, ...customers.map((c) => c.id)]
}

/**
 * Every row of every table of tollgate and tollgate_private whose text (all its columns) mentions
 * one of `needles`, ignoring case, by table: a table added later is searched too.
 */
export const rowsMentioning = async (
  sql: Sql,
  needles: string[],
): Promise<Record<string, string[]>> => {
  const tables = await sql<{ schema: string; name: string }[]>`
    select n.nspname as schema, c.relname as name
    from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname in ('tollgate', 'tollgate_private') and c.relkind in ('r', 'p')
    order by 1, 2`
  const patterns = needles.map((needle) => `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)
  const found: Record<string, string[]> = {}
  for (const table of tables) {
    const rows = await sql<{ row: string }[]>`
      select r::text as row from ${sql(table.schema)}.${sql(table.name)} r
      where r::text ilike any (${patterns}::text[])
      order by 1`
    if (rows.length > 0) found[`${table.schema}.${table.name}`] = rows.map((r) => r.row)
  }
  return found
}

/** The tables holding a row that mentions one of `needles`. */
export const tablesMentioning = async (sql: Sql, needles: string[]): Promise<string[]> =>
  Object.keys(await rowsMentioning(sql, needles))

/** What the money figures say: admin_metrics' revenue of 30 days and the revenue per month. */
export const moneyOf = async (sql: Sql) => {
  const [metrics] = await sql<{ revenue: Record<string, number> }[]>`
    select tollgate_private.revenue_metrics(now()) -> 'revenue_30d' as revenue`
  const byMonth = await sql`select * from tollgate_private.revenue_by_month`
  return { revenue_30d: metrics!.revenue, revenue_by_month: byMonth }
}

/**
 * A paying Stripe customer with a row in every kind of table a user reaches: a pro subscription
 * bought with a coupon (invoice, payment notification, email, redemption), a product purchase
 * (credits), usage, preferences, an admin's credit grant whose reason names them, and a
 * customer.updated event carrying their name, email, phone and address.
 */
export const withFootprint = async (
  h: BillingHarness,
  user: Caller,
  admin: Caller,
): Promise<{ subscriptionId: string; coupon: string }> => {
  const coupon = await createCoupon(h.sql, { percentOff: 10, maxUses: 100 })
  const paid = await paidStripeCheckout(h, user, 'pro', { coupon_code: coupon })
  const purchase = await paidStripePurchase(h, user)
  for (const answer of await h.deliverStripe([...paid.events, ...purchase.events])) {
    if (answer.status !== 200) throw new Error(`webhook answered ${answer.status}`)
  }
  await consume(h.sql, user, 'api_calls', 3)
  await asUser(h.sql, user, (tx) => tx`select tollgate.set_notification_preferences(array['quota_warning'])`, {
    commit: true,
  })
  await asUser(h.sql, user, (tx) => tx`select tollgate.create_api_key('my server')`, { commit: true })
  await asAdmin(
    h.sql,
    admin,
    (tx) => tx`select tollgate.admin_grant_credits(${user.id}::uuid, 'api_calls', 10, null, ${`goodwill, asked by ${user.email}`})`,
    { commit: true },
  )
  const customer = String(h.stripe.state.subscriptions.get(paid.subscriptionId)?.customer)
  const event = h.stripe.makeEvent('customer.updated', {
    id: customer,
    object: 'customer',
    email: user.email,
    name: 'Ada Lovelace',
    phone: '+44 20 7946 0000',
    address: { line1: '12 St James Square', city: 'London', postal_code: 'SW1Y 4JH', country: 'GB' },
    metadata: { user_id: user.id },
  })
  const [answer] = await h.deliverStripe([event])
  if (answer?.status !== 200) throw new Error(`webhook answered ${answer?.status}`)
  return { subscriptionId: paid.subscriptionId, coupon }
}
