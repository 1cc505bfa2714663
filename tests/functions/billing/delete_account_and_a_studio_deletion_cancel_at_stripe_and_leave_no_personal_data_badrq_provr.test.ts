import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { app as notifications } from '../../../functions/notifications/app.ts'
import { poolFor } from '../../../packages/db/src/client.ts'
import { billingHarness, couponOf, createCoupon, paidStripeCheckout, pastClock, signToken, unixNow, type BillingHarness, type Caller } from '../../helpers/billing.ts'
import { identifiersOf, moneyOf, rowsMentioning, tablesMentioning, withFootprint } from '../../helpers/forgotten.ts'
import { buildScratch, type Built } from '../../schema/scratch.ts'
import { signInAdmin } from './admin-refund-support.ts'

// A database of the file's own: the Studio path runs the provider outbox of the whole database.
let db: Built
let h: BillingHarness
beforeAll(async () => {
  db = await buildScratch('migrations', { seed: true })
  h = await billingHarness({ stripe: pastClock, databaseUrl: db.url })
})
afterAll(async () => {
  await poolFor({ DATABASE_URL: db.url }, { max: 2, applicationName: 'tollgate-notifications' }).end()
  await h?.close()
  await db?.close()
})

/** The user's invoices and purchases as the accounts need them (ids, amounts, owner). */
const paymentsOf = async (userId: string) => ({
  invoices: await h.sql`
    select id, amount_due, amount_paid, amount_refunded, currency, status, number
    from tollgate.invoices where user_id = ${userId} order by id`,
  purchases: await h.sql`
    select id, product_id, amount_paid, amount_refunded, currency, status
    from tollgate.purchases where user_id = ${userId} order by id`,
})

/** The same rows again by id, wherever their owner went. */
const paymentsById = async (before: Awaited<ReturnType<typeof paymentsOf>>) => ({
  invoices: await h.sql`
    select id, amount_due, amount_paid, amount_refunded, currency, status, number
    from tollgate.invoices where id in ${h.sql(before.invoices.map((i) => i.id))} order by id`,
  purchases: await h.sql`
    select id, product_id, amount_paid, amount_refunded, currency, status
    from tollgate.purchases where id in ${h.sql(before.purchases.map((p) => p.id))} order by id`,
})

const ownersOf = (before: Awaited<ReturnType<typeof paymentsOf>>) => h.sql`
  select user_id, hosted_invoice_url from tollgate.invoices where id in ${h.sql(before.invoices.map((i) => i.id))}
  union all
  select user_id, null from tollgate.purchases where id in ${h.sql(before.purchases.map((p) => p.id))}`

/** Two paying customers: the one who leaves and one who stays, and what identifies each. */
const twoCustomers = async () => {
  const admin = await signInAdmin(h)
  const me = await h.signIn()
  const other = await h.signIn()
  const mine = await withFootprint(h, me, admin)
  const theirs = await withFootprint(h, other, admin)
  return {
    me,
    other,
    mine,
    theirs,
    myIds: await identifiersOf(h.sql, me),
    theirIds: await identifiersOf(h.sql, other),
  }
}

const deleteAccount = (caller: Caller, body: unknown = { confirm: true }) =>
  h.post('delete-account', caller, body)

const stripeCancels = () => h.stripe.requestsTo('DELETE', /^\/v1\/subscriptions\//).length

describe('POST /billing/delete-account', () => {
  it('cancels the Stripe subscription at once, then no table holds the user\'s id, email or customer id; invoices, purchases and revenue stay', async () => {
    const { me, mine, theirs, myIds, theirIds } = await twoCustomers()
    // The search sees the user everywhere before (it is no search that finds nothing).
    expect(await tablesMentioning(h.sql, myIds)).toEqual(
      expect.arrayContaining([
        'tollgate.api_keys',
        'tollgate.credit_balances',
        'tollgate.invoices',
        'tollgate.notification_preferences',
        'tollgate.notifications',
        'tollgate.purchases',
        'tollgate.subscriptions',
        'tollgate_private.audit_log',
        'tollgate_private.coupon_redemptions',
        'tollgate_private.customers',
        'tollgate_private.email_outbox',
        'tollgate_private.provider_refs',
        'tollgate_private.usage_counters',
        'tollgate_private.usage_events',
        'tollgate_private.webhook_events',
      ]),
    )
    const payments = await paymentsOf(me.id)
    expect(payments.invoices).toHaveLength(1)
    expect(payments.purchases).toHaveLength(1)
    const money = await moneyOf(h.sql)
    const othersRows = await rowsMentioning(h.sql, theirIds)
    const coupon = await couponOf(h.sql, mine.coupon)

    const answer = await deleteAccount(me)

    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({
      forgotten: true,
      nothing_left: false,
      deleted: { subscriptions: 1, customers: 1, coupon_redemptions: 1, notification_preferences: 1, api_keys: 1 },
      kept_without_personal_data: { invoices: 1, purchases: 1 },
      cancellations_queued: 0,
      providers: { stripe: { subscriptions_canceled: 1 }, razorpay: { subscriptions_canceled: 0 } },
    })
    expect(h.stripe.state.subscriptions.get(mine.subscriptionId)).toMatchObject({ status: 'canceled' })
    expect(await tablesMentioning(h.sql, myIds)).toEqual([])
    // Kept for the accounts, unowned, amounts unchanged; the links to the invoice's page went.
    expect(await paymentsById(payments)).toEqual(payments)
    expect(await ownersOf(payments)).toEqual([
      { user_id: null, hosted_invoice_url: null },
      { user_id: null, hosted_invoice_url: null },
    ])
    expect(await moneyOf(h.sql)).toEqual(money)
    // A redeemed coupon use stays counted.
    expect(await couponOf(h.sql, mine.coupon)).toEqual(coupon)
    // The deletion is audited, with counts and no personal data.
    const [audit] = await h.sql`
      select new_values from tollgate_private.audit_log
      where table_name = 'users' and reason = 'account deleted: delete-account' order by id desc limit 1`
    expect(audit!.new_values).toMatchObject({ deleted: { subscriptions: 1 }, kept_without_personal_data: { invoices: 1 } })
    // The other customer: every row about them as it was, their subscription billing on.
    expect(await rowsMentioning(h.sql, theirIds)).toEqual(othersRows)
    expect(h.stripe.state.subscriptions.get(theirs.subscriptionId)).toMatchObject({ status: 'active' })
  })

  it('is safe to retry: a second call cancels nothing, changes nothing and says nothing was left', async () => {
    const { me } = await twoCustomers()
    expect(await deleteAccount(me)).toMatchObject({ status: 200, body: { forgotten: true } })
    const cancels = stripeCancels()
    const [{ audits }] = await h.sql`select count(*)::int as audits from tollgate_private.audit_log`

    const again = await deleteAccount(me)

    expect(again).toMatchObject({
      status: 200,
      body: {
        forgotten: false,
        nothing_left: true,
        deleted: { subscriptions: 0, customers: 0 },
        kept_without_personal_data: { invoices: 0, webhook_events: 0, audit_log: 0 },
        providers: { stripe: { subscriptions_canceled: 0 } },
      },
    })
    expect(stripeCancels()).toBe(cancels)
    const [{ now }] = await h.sql`select count(*)::int as now from tollgate_private.audit_log`
    expect(now).toBe(audits)
  })

  it('then the app deletes the Auth user: the late Stripe events of the cancellation leave nothing behind either', async () => {
    const { me, myIds } = await twoCustomers()
    const from = h.stripe.events.length
    expect(await deleteAccount(me)).toMatchObject({ status: 200 })
    // customer.subscription.deleted arrives while the Auth user still exists and is applied.
    const late = h.stripe.events.slice(from)
    expect(late.map((e) => e.type)).toContain('customer.subscription.deleted')
    for (const answer of await h.deliverStripe(late)) expect(answer.status).toBe(200)

    // supabase.auth.admin.deleteUser(id), as README shows.
    await h.sql`delete from auth.users where id = ${me.id}`

    expect(await tablesMentioning(h.sql, myIds)).toEqual([])
  })

  it.each([
    ['no body', undefined],
    ['no confirm', {}],
    ['confirm false', { confirm: false }],
    ['confirm as a string', { confirm: 'true' }],
    ['another field', { confirm: true, also: 1 }],
  ])('refuses %s with 400 BADRQ, cancelling and deleting nothing', async (_, body) => {
    const { me, mine, myIds } = await twoCustomers()
    const rows = await rowsMentioning(h.sql, myIds)
    const cancels = stripeCancels()

    const answer = await h.post('delete-account', me, body)

    expect(answer).toMatchObject({ status: 400, body: { code: 'BADRQ' } })
    expect(stripeCancels()).toBe(cancels)
    expect(h.stripe.state.subscriptions.get(mine.subscriptionId)).toMatchObject({ status: 'active' })
    expect(await rowsMentioning(h.sql, myIds)).toEqual(rows)
  })

  it('answers 502 PROVR when Stripe fails, deleting nothing; the retry cancels and forgets', async () => {
    const { me, mine, myIds } = await twoCustomers()
    const rows = await rowsMentioning(h.sql, myIds)
    h.stripe.fail('DELETE', /^\/v1\/subscriptions\//, { status: 500 }, 3)

    const failed = await deleteAccount(me)

    expect(failed).toMatchObject({ status: 502, body: { code: 'PROVR' } })
    expect(h.stripe.state.subscriptions.get(mine.subscriptionId)).toMatchObject({ status: 'active' })
    expect(await rowsMentioning(h.sql, myIds)).toEqual(rows)

    const retried = await deleteAccount(me)
    expect(retried).toMatchObject({ status: 200, body: { forgotten: true } })
    expect(h.stripe.state.subscriptions.get(mine.subscriptionId)).toMatchObject({ status: 'canceled' })
    expect(await tablesMentioning(h.sql, myIds)).toEqual([])
  })
})

describe('POST /billing/delete-account and checkouts still open', () => {
  it('expires an open Stripe checkout, and cancels the subscription of one paid but not applied yet', async () => {
    const open = await h.signIn()
    const opened = await h.post('checkout', open, { plan_id: 'pro' })
    expect(opened.status).toBe(200)
    const paidNotApplied = await h.signIn()
    const paid = await paidStripeCheckout(h, paidNotApplied, 'pro')

    const first = await deleteAccount(open)
    const second = await deleteAccount(paidNotApplied)

    expect(first).toMatchObject({
      status: 200,
      body: { providers: { stripe: { checkouts_closed: 1, subscriptions_canceled: 0 } } },
    })
    expect(h.stripe.state.checkoutSessions.get(String(opened.body.session_id))).toMatchObject({ status: 'expired' })
    expect(second).toMatchObject({
      status: 200,
      body: { providers: { stripe: { checkouts_closed: 1, subscriptions_canceled: 1 } } },
    })
    expect(h.stripe.state.subscriptions.get(paid.subscriptionId)).toMatchObject({ status: 'canceled' })
    expect(await tablesMentioning(h.sql, [open.id, open.email, paidNotApplied.id, paidNotApplied.email])).toEqual([])
  })
  it('gives back the coupon use of the checkout it expired, and keeps counted the one paid but not applied yet', async () => {
    const expiring = await createCoupon(h.sql, { maxUses: 1 })
    const spent = await createCoupon(h.sql, { maxUses: 1 })
    const open = await h.signIn()
    expect((await h.post('checkout', open, { plan_id: 'pro', coupon_code: expiring })).status).toBe(200)
    const paidNotApplied = await h.signIn()
    await paidStripeCheckout(h, paidNotApplied, 'pro', { coupon_code: spent })
    expect((await couponOf(h.sql, expiring)).times_redeemed).toBe(1)
    expect((await couponOf(h.sql, spent)).times_redeemed).toBe(1)

    expect((await deleteAccount(open)).status).toBe(200)
    expect((await deleteAccount(paidNotApplied)).status).toBe(200)

    // Stripe closed the first unpaid: its use is free for someone else. The second was paid at
    // the discount before the deletion: its use is spent, though no event will ever settle it.
    expect((await couponOf(h.sql, expiring)).times_redeemed).toBe(0)
    expect((await couponOf(h.sql, spent)).times_redeemed).toBe(1)
  })
})

describe('a user deleted in Studio (delete from auth.users)', () => {
  it('is cancelled at Stripe by the next dispatch and leaves no personal data, nor do Stripe\'s later events about them; invoices and revenue stay', async () => {
    const { me, mine, theirs, myIds, theirIds } = await twoCustomers()
    const payments = await paymentsOf(me.id)
    const money = await moneyOf(h.sql)
    const othersRows = await rowsMentioning(h.sql, theirIds)

    await h.sql`delete from auth.users where id = ${me.id}`

    expect(await tablesMentioning(h.sql, myIds)).toEqual([])
    expect(await paymentsById(payments)).toEqual(payments)
    expect(await moneyOf(h.sql)).toEqual(money)
    expect(await rowsMentioning(h.sql, theirIds)).toEqual(othersRows)
    // The outbox outlives the user and cancels at Stripe after the commit.
    expect(h.stripe.state.subscriptions.get(mine.subscriptionId)).toMatchObject({ status: 'active' })
    const from = h.stripe.events.length
    const token = await signToken({ role: 'service_role', iss: 'supabase', iat: unixNow(), exp: unixNow() + 600 })
    const dispatched = await notifications.request(
      '/notifications/dispatch',
      { method: 'POST', headers: { authorization: `Bearer ${token}` } },
      { ...h.env, TOLLGATE_EMAIL_FROM: 'Acme Billing <billing@acme.test>', TOLLGATE_APP_URL: 'https://app.acme.test' },
    )
    expect(dispatched.status).toBe(200)
    expect(await dispatched.json()).toMatchObject({ provider_actions: { done: 1, failed: 0 } })
    expect(h.stripe.state.subscriptions.get(mine.subscriptionId)).toMatchObject({ status: 'canceled' })
    const [audit] = await h.sql`
      select actor_user_id, new_values from tollgate_private.audit_log
      where table_name = 'users' and reason = 'account deleted: auth.users' order by id desc limit 1`
    expect(audit).toMatchObject({ actor_user_id: null, new_values: { deleted: { subscriptions: 1 } } })
    // Stripe then tells of the cancellation, naming the user who is gone: stored without them.
    const late = h.stripe.events.slice(from)
    expect(late.map((e) => e.type)).toContain('customer.subscription.deleted')
    for (const answer of await h.deliverStripe(late)) expect(answer.status).toBe(200)
    expect(await tablesMentioning(h.sql, myIds)).toEqual([])
    expect(h.stripe.state.subscriptions.get(theirs.subscriptionId)).toMatchObject({ status: 'active' })
  })
})
