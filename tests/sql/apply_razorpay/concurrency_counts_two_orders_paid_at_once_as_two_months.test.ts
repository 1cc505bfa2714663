import { afterAll, describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { openConnections, taggedPool } from '../consume_usage/support.ts'
import { checkoutOrder, invoicesOf, subscriptionsOf, verifyPayment } from './support.ts'

const workers = taggedPool(4)
afterAll(() => workers.sql.end())

describe('two orders of one user paid at the same moment (two tabs)', () => {
  it('makes one subscription of two consecutive months with two invoices', async ({
    sql,
    user,
  }) => {
    const first = await sql.begin((tx) => checkoutOrder(tx, user.id))
    const second = await sql.begin((tx) => checkoutOrder(tx, user.id))
    await openConnections(workers.sql, 2)

    const results = await Promise.all(
      [first, second].map((order) =>
        workers.sql.begin((tx) => verifyPayment(tx, user.id, order.orderId)),
      ),
    )

    expect(results.map((result) => result.outcome)).toEqual(['applied', 'applied'])
    const subscriptions = await subscriptionsOf(sql, user.id)
    expect(subscriptions).toHaveLength(1)
    // Whichever came second renewed the first: the months follow each other.
    const invoices = await invoicesOf(sql, user.id)
    expect(invoices).toHaveLength(2)
    expect(invoices[1]?.period_start).toEqual(invoices[0]?.period_end)
    expect(subscriptions[0]).toMatchObject({
      plan_id: 'pro',
      status: 'active',
      // The second month is the current paid period; the quota months keep the first anchor.
      current_period_start: invoices[1]?.period_start,
      current_period_end: invoices[1]?.period_end,
      billing_cycle_anchor: invoices[0]?.period_start,
    })
  })
})
