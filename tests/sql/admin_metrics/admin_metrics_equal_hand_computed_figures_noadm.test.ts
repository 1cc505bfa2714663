import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { asAdmin, asServiceRole, asUser, pgError } from '../../helpers/db.ts'
import { buildScratch, type Built } from '../../schema/scratch.ts'
import { addUser, subscriptionWithHistory } from './support.ts'

// A database of its own: the figures sum over every subscription there is.
let db: Built
const users: Record<string, string> = {}

beforeAll(async () => {
  db = await buildScratch('migrations', { seed: true })
  const sql = db.sql
  await sql`
    insert into tollgate.plans (id, name, amount, currency, "interval")
    values ('pro_yearly', 'Pro yearly', 29000, 'usd', 'year'), ('pro_inr', 'Pro INR', 99900, 'inr', 'month')`
  for (const name of ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M']) users[name] = await addUser(sql)
  const u = users as Record<string, string>
  // A: pro since 60 days. B: pro since 60 days, upgraded to enterprise mid-month (10 days ago).
  await subscriptionWithHistory(sql, u.A!, 'stripe', { daysAgo: 60, plan_id: 'pro', status: 'active' })
  await subscriptionWithHistory(sql, u.B!, 'stripe', { daysAgo: 60, plan_id: 'pro', status: 'active' },
    { daysAgo: 10, plan_id: 'enterprise' })
  // C: new, paying through Razorpay for 5 days. D: paid 90 days, canceled 3 days ago (churned).
  await subscriptionWithHistory(sql, u.C!, 'razorpay', { daysAgo: 5, plan_id: 'pro', status: 'active' })
  await subscriptionWithHistory(sql, u.D!, 'stripe', { daysAgo: 90, plan_id: 'pro', status: 'active' },
    { daysAgo: 3, status: 'canceled' })
  // E: set to cancel at the end of its period: still paying. F: trialing since 2 days.
  await subscriptionWithHistory(sql, u.E!, 'stripe',
    { daysAgo: 40, plan_id: 'pro', status: 'active', cancel_at_period_end: true })
  await subscriptionWithHistory(sql, u.F!, 'stripe', { daysAgo: 2, plan_id: 'pro', status: 'trialing' })
  // G: active since 50 days, past_due since 2. H: yearly plan since 100 days.
  await subscriptionWithHistory(sql, u.G!, 'stripe', { daysAgo: 50, plan_id: 'pro', status: 'active' },
    { daysAgo: 2, status: 'past_due' })
  await subscriptionWithHistory(sql, u.H!, 'stripe', { daysAgo: 100, plan_id: 'pro_yearly', status: 'active' })
  // I: an internal grant (pays nothing). J: a rupee plan since 45 days.
  await subscriptionWithHistory(sql, u.I!, 'internal', { daysAgo: 20, plan_id: 'enterprise', status: 'active' })
  await subscriptionWithHistory(sql, u.J!, 'razorpay', { daysAgo: 45, plan_id: 'pro_inr', status: 'active' })

  // L: pro since 20 days with 25 % off for 3 months (recurring: still running). M: pro since 20
  // days with 20 % off once (a one-off: not recurring revenue).
  await sql`
    insert into tollgate_private.coupons (code, percent_off, duration, duration_in_months)
    values ('LOYAL25', 25, 'repeating', 3), ('FIRST20', 20, 'once', null)`
  await subscriptionWithHistory(sql, u.L!, 'stripe', { daysAgo: 20, plan_id: 'pro', status: 'active' })
  await subscriptionWithHistory(sql, u.M!, 'stripe', { daysAgo: 20, plan_id: 'pro', status: 'active' })
  for (const [user, code] of [[u.L!, 'LOYAL25'], [u.M!, 'FIRST20']]) {
    await sql`
      insert into tollgate_private.coupon_redemptions (coupon_code, user_id, plan_id, provider, status)
      values (${code}, ${user}, 'pro', 'stripe', 'redeemed')`
    await sql`
      update tollgate_private.coupon_redemptions set redeemed_at = now() - interval '20 days'
      where user_id = ${user}`
  }

  // Money collected: invoices (one partly refunded, one older than 30 days) and purchases (one refunded).
  await sql`
    insert into tollgate.invoices (user_id, provider, status, currency, amount_due, amount_paid, amount_refunded, paid_at)
    values
      (${u.A!}, 'stripe', 'paid', 'usd', 2900, 2900, 0, now() - interval '20 days'),
      (${u.B!}, 'stripe', 'paid', 'usd', 9900, 9900, 1000, now() - interval '10 days'),
      (${u.A!}, 'stripe', 'paid', 'usd', 2900, 2900, 0, now() - interval '40 days'),
      (${u.J!}, 'razorpay', 'paid', 'inr', 99900, 99900, 0, now() - interval '15 days'),
      (${u.G!}, 'stripe', 'open', 'usd', 2900, 0, 0, null)`
  await sql`
    insert into tollgate.purchases (user_id, product_id, provider, status, currency, amount_paid, amount_refunded, paid_at)
    values
      (${u.A!}, 'api_calls_pack', 'stripe', 'paid', 'usd', 900, 0, now() - interval '3 days'),
      (${u.K!}, 'api_calls_pack', 'stripe', 'refunded', 'usd', 1000, 1000, now() - interval '4 days')`
})

afterAll(async () => {
  await db?.close()
})

describe('tollgate.admin_metrics on a fixture of renewals, upgrades and churn', () => {
  it('equals the figures computed by hand', async () => {
    const [{ m }] = await asAdmin(db.sql, users.K!, (tx) => tx`select tollgate.admin_metrics() as m`)
    // usd MRR: A 2900 + B 9900 (upgraded) + C 2900 + E 2900 (cancelling, still paying) + G 2900
    // (past_due) + H 29000 / 12 = 2416.67 + L 2900 x 0.75 = 2175 (3 months at 25 %, still running)
    // + M 2900 (its 20 % was once) -> 28,991.67, rounded 28,992. F trialing, D churned and I's
    // internal grant count nothing. inr: J 99,900.
    expect(m).toEqual({
      as_of: expect.any(String),
      mrr: { usd: 28992, inr: 99900 },
      arr: { usd: 347904, inr: 1198800 },
      active_subscriptions: 9,
      by_plan: [
        { plan_id: 'enterprise', currency: 'usd', subscriptions: 1, mrr: 9900 },
        { plan_id: 'pro', currency: 'usd', subscriptions: 6, mrr: 16675 },
        { plan_id: 'pro_inr', currency: 'inr', subscriptions: 1, mrr: 99900 },
        { plan_id: 'pro_yearly', currency: 'usd', subscriptions: 1, mrr: 2417 },
      ],
      trialing: 1,
      past_due: { subscriptions: 1, mrr: { usd: 2900 } },
      // Paying 30 days ago: A B D E G H J (7). Now: A B C E G H J L M. New: C L M. Churned: D.
      new_30d: 3,
      churned_30d: 1,
      churn_rate_30d: 0.1429,
      // 28,992 over 8 paying usd users; 99,900 over 1 inr user.
      arpu: { usd: 3624, inr: 99900 },
      // 2900 + (9900 - 1000) + 900 + (1000 - 1000); the invoice of 40 days ago is outside.
      revenue_30d: { usd: 12700, inr: 99900 },
    })
    // Studio's view counts the same.
    const studio = await db.sql`
      select plan_id, subscriptions::int, past_due::int, mrr::int from tollgate_private.mrr_by_plan
      where subscriptions > 0 order by plan_id`
    expect(studio).toEqual([
      { plan_id: 'enterprise', subscriptions: 1, past_due: 0, mrr: 9900 },
      { plan_id: 'pro', subscriptions: 6, past_due: 1, mrr: 16675 },
      { plan_id: 'pro_inr', subscriptions: 1, past_due: 0, mrr: 99900 },
      { plan_id: 'pro_yearly', subscriptions: 1, past_due: 0, mrr: 2417 },
    ])
  })

  it('answers the service role, and refuses a signed-in user who is no admin (403 NOADM)', async () => {
    const [{ m }] = await asServiceRole(db.sql, (tx) => tx`select tollgate.admin_metrics() as m`)
    expect(m.mrr).toEqual({ usd: 28992, inr: 99900 })
    const error = await pgError(asUser(db.sql, users.A!, (tx) => tx`select tollgate.admin_metrics()`))
    expect(error.code).toBe('NOADM')
  })
})

describe('daily history (snapshot_metrics, metrics_history)', () => {
  const day = (daysAgo: number): string =>
    new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10)

  const history = async () =>
    (await asServiceRole(db.sql, (tx) =>
      tx<{ day: Date; currency: string; mrr: string; active_subscriptions: number; new_subscriptions: number; churned_subscriptions: number }[]>`
        select * from tollgate.metrics_history(${day(120)}::date, ${day(0)}::date)`))
      .map((r) => ({ ...r, day: r.day.toISOString().slice(0, 10), mrr: Number(r.mrr) }))

  it('writes each complete day once from the audit trail; a second run changes nothing; a missed day is filled', async () => {
    const [{ days }] = await db.sql`select tollgate_private.snapshot_metrics(now()) as days`
    expect(days).toBeGreaterThanOrEqual(100)
    const first = await history()

    const yesterday = first.filter((r) => r.day === day(1))
    // Yesterday ended with today's paying set (nothing changed today).
    expect(yesterday).toEqual([
      { day: day(1), currency: 'inr', mrr: 99900, active_subscriptions: 1, new_subscriptions: 0, churned_subscriptions: 0 },
      { day: day(1), currency: 'usd', mrr: 28992, active_subscriptions: 8, new_subscriptions: 0, churned_subscriptions: 0 },
    ])
    // C started paying 5 days ago; D stopped 3 days ago (each on that UTC day).
    expect(first.find((r) => r.day === day(5) && r.currency === 'usd')).toMatchObject({ new_subscriptions: 1 })
    expect(first.find((r) => r.day === day(3) && r.currency === 'usd')).toMatchObject({ churned_subscriptions: 1 })
    // 61 days ago: only D (since 90) and H (since 100) paid: 2900 + 2416.67.
    expect(first.find((r) => r.day === day(61) && r.currency === 'usd')).toMatchObject({ mrr: 5317, active_subscriptions: 2 })

    const [{ again }] = await db.sql`select tollgate_private.snapshot_metrics(now()) as again`
    expect(again).toBe(0)
    expect(await history()).toEqual(first)

    await db.sql`delete from tollgate_private.metrics_daily where day >= ${day(3)}::date`
    await db.sql`select tollgate_private.run_maintenance(now())`
    expect(await history()).toEqual(first)
  })

  it('refuses non-admins (NOADM) and a reversed range (BADRQ)', async () => {
    const noadm = await pgError(asUser(db.sql, users.A!, (tx) =>
      tx`select * from tollgate.metrics_history(current_date - 7, current_date)`))
    expect(noadm.code).toBe('NOADM')
    const reversed = await pgError(asServiceRole(db.sql, (tx) =>
      tx`select * from tollgate.metrics_history(current_date, current_date - 7)`))
    expect(reversed.code).toBe('BADRQ')
  })
})
