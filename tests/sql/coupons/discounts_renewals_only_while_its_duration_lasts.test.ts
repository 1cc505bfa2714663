import { describe, expect } from 'vitest'
import { razorpayId } from '../../helpers/fake-razorpay.ts'
import { type Queryable, type Tx, withRollback } from '../../helpers/db.ts'
import { checkoutOrder, verifyPayment } from '../apply_razorpay/support.ts'
import { it, prepare, type Prepared, settle } from './support.ts'

type Discount = { code: string; duration: string; ends_at: string | null } | null

/** A Razorpay renewal order as the billing function opens it at `asOf` (no coupon code). */
const renewAt = async (q: Queryable, userId: string, asOf: string) => {
  const orderId = razorpayId('order')
  const [row] = await q<{ prepared: Prepared & { kind: string; renewal_discount: Discount } }[]>`
    select tollgate_private.prepare_checkout(${userId}::uuid, 'pro', 'razorpay', null, ${asOf}::timestamptz)
      as prepared`
  if (!row) throw new Error('prepare_checkout returned nothing')
  await q`
    select tollgate_private.record_checkout(
      ${userId}::uuid, 'razorpay', ${orderId}, ${row.prepared.checkout_id}::uuid, 'pro',
      ${row.prepared.amount}::bigint, ${row.prepared.currency})`
  return { orderId, ...row.prepared }
}

/** The live subscription's id and paid end. */
const liveOf = async (q: Queryable, userId: string) => {
  const [row] = await q<{ id: string; current_period_end: string }[]>`
    select id, current_period_end::text from tollgate.subscriptions
    where user_id = ${userId}::uuid and status = any (tollgate_private.live_statuses())`
  if (!row) throw new Error('no live subscription')
  return row
}

/**
 * subscription_discount of a subscription for a payment billed at its current period's end, or
 * at `afterRedemption` after the redemption of `code` (computed in SQL: the driver would round
 * the microseconds of a timestamp sent back to it).
 */
const discountOf = async (
  q: Queryable,
  subscriptionId: string,
  at: { periodEnd: true } | { code: string; afterRedemption: string },
): Promise<Discount> => {
  const [row] = 'periodEnd' in at
    ? await q<{ discount: Discount }[]>`
      select tollgate_private.subscription_discount(s.id, s.current_period_end) as discount
      from tollgate.subscriptions s where s.id = ${subscriptionId}::uuid`
    : await q<{ discount: Discount }[]>`
      select tollgate_private.subscription_discount(${subscriptionId}::uuid,
        r.redeemed_at + ${at.afterRedemption}::interval) as discount
      from tollgate_private.coupon_redemptions r
      where r.coupon_code = ${at.code} and r.status = 'redeemed'`
  if (!row) throw new Error('no subscription or redemption')
  return row.discount
}

/** Subscribes with the coupon (2900 -> 2320 at 20 %) and pays on time `renewals` times. */
const subscribeAndRenew = async (tx: Tx, userId: string, code: string, renewals: number) => {
  const first = await checkoutOrder(tx, userId, { coupon: code })
  await verifyPayment(tx, userId, first.orderId)
  const amounts = [first.amount]
  for (let i = 0; i < renewals; i++) {
    const live = await liveOf(tx, userId)
    // Paid a day before the period ends: the order pays the period starting at its end.
    const asOf = new Date(Date.parse(live.current_period_end) - 86_400_000).toISOString()
    const order = await renewAt(tx, userId, asOf)
    expect(order.kind).toBe('renewal')
    amounts.push(order.amount)
    await verifyPayment(tx, userId, order.orderId, { asOf })
  }
  return amounts
}

describe('a coupon on a Razorpay subscription, renewed order by order', () => {
  it('once (the default): only the first payment is discounted', async ({ sql, user, coupons }) => {
    const code = await coupons.create({ percentOff: 20, maxUses: 5 })
    await withRollback(sql, async (tx) => {
      expect(await subscribeAndRenew(tx, user.id, code, 2)).toEqual([2320, 2900, 2900])
    })
  })

  it('repeating 2 months on a monthly plan: two discounted payments, then the full price', async ({
    sql,
    user,
    coupons,
  }) => {
    const code = await coupons.create({ percentOff: 20, duration: 'repeating', durationInMonths: 2 })
    await withRollback(sql, async (tx) => {
      expect(await subscribeAndRenew(tx, user.id, code, 3)).toEqual([2320, 2320, 2900, 2900])
      // The invoices say what was paid.
      const invoices = await tx<{ amount_paid: string }[]>`
        select amount_paid::text from tollgate.invoices where user_id = ${user.id}::uuid
        order by period_start`
      expect(invoices.map((i) => i.amount_paid)).toEqual(['2320', '2320', '2900', '2900'])
    })
  })

  it('forever: every renewal is discounted, a late one too', async ({ sql, user, coupons }) => {
    const code = await coupons.create({ percentOff: 20, duration: 'forever' })
    await withRollback(sql, async (tx) => {
      expect(await subscribeAndRenew(tx, user.id, code, 2)).toEqual([2320, 2320, 2320])
      const live = await liveOf(tx, user.id)
      const late = new Date(Date.parse(live.current_period_end) + 40 * 86_400_000).toISOString()
      expect(await renewAt(tx, user.id, late)).toMatchObject({
        kind: 'renewal',
        amount: 2320,
        renewal_discount: { code, duration: 'forever', ends_at: null },
      })
    })
  })

  it('a renewal with a code of its own is priced by that code, as before', async ({
    sql,
    user,
    coupons,
  }) => {
    const code = await coupons.create({ percentOff: 20, duration: 'forever' })
    const other = await coupons.create({ percentOff: 50 })
    await withRollback(sql, async (tx) => {
      await subscribeAndRenew(tx, user.id, code, 0)
      const order = await checkoutOrder(tx, user.id, { coupon: other })
      expect(order).toMatchObject({ kind: 'renewal', amount: 1450, coupon: { code: other } })
    })
  })
})

describe('tollgate_private.subscription_discount (for MRR after recurring discounts)', () => {
  it("tells whether a live subscription's coupon still discounts a payment billed at a time", async ({
    sql,
    user,
    coupons,
  }) => {
    const code = await coupons.create({ percentOff: 20, duration: 'repeating', durationInMonths: 3 })
    await withRollback(sql, async (tx) => {
      await subscribeAndRenew(tx, user.id, code, 0)
      const live = await liveOf(tx, user.id)
      // The next renewal (a month on) is still discounted; a payment 3 months on is not.
      expect(await discountOf(tx, live.id, { periodEnd: true })).toMatchObject({
        code,
        percent_off: 20,
        duration: 'repeating',
        duration_in_months: 3,
      })
      expect(
        await discountOf(tx, live.id, { code, afterRedemption: '3 months -1 second' }),
      ).toMatchObject({ code })
      expect(await discountOf(tx, live.id, { code, afterRedemption: '3 months' })).toBeNull()
    })
  })

  it('once applies to the redeeming payment only; a coupon of an earlier subscription not at all', async ({
    sql,
    user,
    coupons,
  }) => {
    const code = await coupons.create({ percentOff: 20, maxUses: 5 })
    await withRollback(sql, async (tx) => {
      await subscribeAndRenew(tx, user.id, code, 0)
      const live = await liveOf(tx, user.id)
      expect(await discountOf(tx, live.id, { code, afterRedemption: '0' })).toMatchObject({
        code,
        duration: 'once',
      })
      expect(await discountOf(tx, live.id, { periodEnd: true })).toBeNull()

      // The redemption predates a later subscription of the same user: it is not that one's.
      await tx`update tollgate_private.coupons set duration = 'forever' where code = ${code}`
      await tx`update tollgate.subscriptions set status = 'canceled', ended_at = now() + interval '30 minutes'
        where id = ${live.id}`
      const [next] = await tx<{ id: string }[]>`
        insert into tollgate.subscriptions (user_id, plan_id, status, provider, current_period_start,
          current_period_end, created_at)
        values (${user.id}::uuid, 'pro', 'active', 'razorpay', now() + interval '1 hour',
          now() + interval '1 month', now() + interval '1 hour')
        returning id`
      expect(await discountOf(tx, live.id, { periodEnd: true })).toMatchObject({ code })
      expect(await discountOf(tx, next?.id ?? '', { periodEnd: true })).toBeNull()
    })
  })

  it('finds the coupon of a Stripe checkout applied before its subscription row was written', async ({
    sql,
    user,
    coupons,
  }) => {
    const code = await coupons.create({ percentOff: 20, duration: 'forever' })
    await withRollback(sql, async (tx) => {
      const prepared = await prepare(tx, user.id, code, { provider: 'stripe' })
      await settle(tx, prepared.checkout_id, true)
      const [sub] = await tx<{ id: string }[]>`
        insert into tollgate.subscriptions (user_id, plan_id, status, provider, current_period_start,
          current_period_end, created_at)
        values (${user.id}::uuid, 'pro', 'active', 'stripe', now() + interval '1 minute',
          now() + interval '1 month', now() + interval '1 minute')
        returning id`
      expect(await discountOf(tx, sub?.id ?? '', { periodEnd: true })).toMatchObject({
        code,
        duration: 'forever',
        ends_at: null,
      })
    })
  })

  it('follows Stripe: once up to the redemption, repeating before redemption + N months, forever always', async ({
    sql,
  }) => {
    const rows = await sql<{ applies: boolean[] }[]>`
      select array[
        tollgate_private.coupon_discount_applies('once', null, t, t),
        tollgate_private.coupon_discount_applies('once', null, t, t + interval '1 month'),
        tollgate_private.coupon_discount_applies('repeating', 3, t, t + interval '2 months'),
        tollgate_private.coupon_discount_applies('repeating', 3, t, t + interval '3 months'),
        tollgate_private.coupon_discount_applies('forever', null, t, t + interval '10 years')
      ] as applies
      from (select timestamptz '2026-01-31 12:00Z' as t) x`
    expect(rows[0]?.applies).toEqual([true, false, true, false, true])
  })
})
