import { randomUUID } from 'node:crypto'
import { describe, expect } from 'vitest'
import { createCoupon, couponOf } from '../../helpers/billing.ts'
import { asAdmin } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'
import { tablesMentioning } from '../../helpers/forgotten.ts'

describe('tollgate_private.forget_user', () => {
  it('keeps reserved and redeemed coupon uses counted (a reserved checkout may have been paid in flight), pseudonymises what the user did as an admin, and runs once', async ({
    sql,
    users,
  }) => {
    const leaving = await users.create({ admin: true })
    const customer = await users.create()
    const reserved = await createCoupon(sql, { maxUses: 10 })
    const redeemed = await createCoupon(sql, { maxUses: 10 })
    await sql`select tollgate_private.reserve_coupon(${reserved}, ${leaving.id}, 'pro', 'stripe', 'cs_open', now())`
    await sql`select tollgate_private.reserve_coupon(${redeemed}, ${leaving.id}, 'pro', 'stripe', 'cs_paid', now())`
    await sql`select tollgate_private.settle_coupon('cs_paid', true)`
    // As an admin, the leaving user granted credits to a customer, naming them in the reason.
    await asAdmin(
      sql,
      leaving,
      (tx) => tx`select tollgate.admin_grant_credits(${customer.id}::uuid, 'api_calls', 10, null, ${`goodwill (${leaving.email})`})`,
      { commit: true },
    )
    expect((await couponOf(sql, reserved)).times_redeemed).toBe(1)

    const [{ result }] = await sql`select tollgate_private.forget_user(${leaving.id}, 'test') as result`

    expect(result).toMatchObject({
      forgotten: true,
      nothing_left: false,
      deleted: { coupon_redemptions: 2 },
      kept_without_personal_data: { audit_log: 1 },
    })
    expect((await couponOf(sql, reserved)).times_redeemed).toBe(1)
    expect((await couponOf(sql, redeemed)).times_redeemed).toBe(1)
    // The customer's grant and its audit stay; the admin who made it is one pseudonym, the one of
    // the deletion's own audit row.
    const [grant] = await sql`
      select a.user_id, a.actor_user_id, a.reason from tollgate_private.audit_log a
      where a.user_id = ${customer.id} and a.table_name = 'credit_balances'`
    const [deletion] = await sql`
      select record_id, new_values from tollgate_private.audit_log
      where table_name = 'users' and reason = 'account deleted: test' and record_id = ${grant!.actor_user_id}`
    expect(grant).toEqual({ user_id: customer.id, actor_user_id: deletion!.record_id, reason: 'admin: goodwill ([forgotten])' })
    expect(deletion!.new_values).toMatchObject({ deleted: { coupon_redemptions: 2 } })
    const [{ credits }] = await sql`
      select count(*)::int as credits from tollgate.credit_balances where user_id = ${customer.id}`
    expect(credits).toBe(1)
    expect(await tablesMentioning(sql, [leaving.id, leaving.email])).toEqual([])

    const [{ audits }] = await sql`select count(*)::int as audits from tollgate_private.audit_log`
    const [{ again }] = await sql`select tollgate_private.forget_user(${leaving.id}, 'test') as again`
    expect(again).toMatchObject({ forgotten: false, nothing_left: true })
    const [{ after }] = await sql`select count(*)::int as after from tollgate_private.audit_log`
    expect(after).toBe(audits)
  })

  it('delete_account gives back the use of a checkout the route expired (closed unpaid), and only that one', async ({
    sql,
    users,
  }) => {
    const leaving = await users.create()
    const expired = await createCoupon(sql, { maxUses: 1 })
    const inFlight = await createCoupon(sql, { maxUses: 1 })
    // A Stripe checkout the route expired: the use is held under Tollgate's checkout id, the
    // session's ref links the two (record_checkout).
    const checkoutId = randomUUID()
    await sql`select tollgate_private.reserve_coupon(${expired}, ${leaving.id}, 'pro', 'stripe', ${checkoutId}, now())`
    await sql`select tollgate_private.record_checkout(${leaving.id}, 'stripe', 'cs_expired_by_route', ${checkoutId}, 'pro', 2900, 'usd')`
    // A Razorpay order the user may have paid a moment ago: nobody can say it was not.
    await sql`select tollgate_private.reserve_coupon(${inFlight}, ${leaving.id}, 'pro', 'razorpay', 'order_in_flight', now())`

    const [{ result }] = await sql`
      select tollgate_private.delete_account(${leaving.id}, '{}'::text[], array['cs_expired_by_route']) as result`

    expect(result).toMatchObject({ forgotten: true, deleted: { coupon_redemptions: 2 } })
    expect((await couponOf(sql, expired)).times_redeemed).toBe(0)
    expect((await couponOf(sql, inFlight)).times_redeemed).toBe(1)
  })

  it('refuses no user (BADRQ)', async ({ sql }) => {
    const error = await sql`select tollgate_private.forget_user(null, 'test')`.catch((e: unknown) => e)
    expect(error).toHaveProperty('code', 'BADRQ')
  })
})
