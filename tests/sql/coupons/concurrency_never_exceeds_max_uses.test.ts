import { afterAll, describe, expect } from 'vitest'
import type postgres from 'postgres'
import { openConnections, taggedPool } from '../consume_usage/support.ts'
import { couponOf, it, prepare, type Prepared } from './support.ts'

const workers = taggedPool(24)
afterAll(() => workers.sql.end())

const CHECKOUTS = 20
const MAX_USES = 5

describe('a coupon with max_uses 5 and 20 users checking out at once', () => {
  it('lets exactly 5 reserve it, refuses 15 (CPMAX), and counts 5 uses', async ({
    sql,
    users,
    coupons,
  }) => {
    const code = await coupons.create({ maxUses: MAX_USES, percentOff: 20 })
    const people = await Promise.all(Array.from({ length: CHECKOUTS }, () => users.create()))
    await openConnections(workers.sql, CHECKOUTS)

    // One committed transaction per checkout, each on its own connection, all at once.
    const outcomes = await Promise.allSettled(
      people.map((person) => workers.sql.begin((tx) => prepare(tx, person.id, code))),
    )

    const reserved = outcomes.flatMap((outcome) =>
      outcome.status === 'fulfilled' ? [outcome.value as Prepared] : [],
    )
    const refused = outcomes.flatMap((outcome) =>
      outcome.status === 'rejected' ? [(outcome.reason as postgres.PostgresError).code] : [],
    )
    expect(reserved).toHaveLength(MAX_USES)
    expect(reserved.every((prepared) => prepared.amount === 2320)).toBe(true)
    expect(refused).toEqual(Array.from({ length: CHECKOUTS - MAX_USES }, () => 'CPMAX'))
    expect(await couponOf(sql, code)).toEqual({
      code,
      times_redeemed: MAX_USES,
      max_uses: MAX_USES,
    })
    const [row] = await sql<{ n: number }[]>`
      select count(*)::int as n from tollgate_private.coupon_redemptions
      where coupon_code = ${code} and status = 'reserved'`
    expect(row?.n).toBe(MAX_USES)
  })
})
