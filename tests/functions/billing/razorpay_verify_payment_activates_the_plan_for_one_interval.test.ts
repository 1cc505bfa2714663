import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  billingHarness,
  paidRazorpayCheckout,
  usageOf,
  type BillingHarness,
  type Caller,
} from '../../helpers/billing.ts'

let h: BillingHarness
beforeAll(async () => {
  h = await billingHarness()
})
afterAll(() => h.close())

type Row = {
  id: string
  plan_id: string
  status: string
  provider: string
  start: Date
  end: Date
  one_interval: boolean
}

// Periods as stored, and whether the period is exactly one calendar month (in UTC).
const subscriptionsOf = (userId: string) =>
  h.sql<Row[]>`
    select id, plan_id, status, provider, current_period_start as start, current_period_end as end,
      current_period_end = (current_period_start at time zone 'UTC' + interval '1 month') at time zone 'UTC'
        as one_interval
    from tollgate.subscriptions where user_id = ${userId} order by created_at`

const invoicesOf = (userId: string) =>
  h.sql`
    select subscription_id, provider, number, status, currency, amount_paid, period_start, period_end
    from tollgate.invoices where user_id = ${userId} order by period_start`

const dbNow = async (): Promise<Date> => {
  const [row] = await h.sql<{ now: Date }[]>`select now() as now`
  if (!row) throw new Error('no clock')
  return row.now
}

const verify = (caller: Caller, paid: Record<string, string>) =>
  h.post('verify-payment', caller, { provider: 'razorpay', ...paid })

describe('POST /billing/verify-payment with a Razorpay payment', () => {
  it('activates the plan for one month from now, with one paid invoice', async () => {
    const caller = await h.signIn()
    const paid = await paidRazorpayCheckout(h, caller, 'pro')
    const before = await dbNow()

    const answer = await verify(caller, paid)

    const after = await dbNow()
    const rows = await subscriptionsOf(caller.id)
    expect(rows).toEqual([
      {
        id: expect.any(String),
        plan_id: 'pro',
        status: 'active',
        provider: 'razorpay',
        start: expect.any(Date),
        end: expect.any(Date),
        one_interval: true,
      },
    ])
    const [row] = rows
    expect(row?.start.getTime()).toBeGreaterThanOrEqual(before.getTime())
    expect(row?.start.getTime()).toBeLessThanOrEqual(after.getTime())
    expect(answer).toEqual({
      status: 200,
      body: {
        subscription: expect.objectContaining({
          id: row?.id,
          user_id: caller.id,
          plan_id: 'pro',
          status: 'active',
          provider: 'razorpay',
          cancel_at_period_end: false,
        }),
      },
    })
    expect(await invoicesOf(caller.id)).toEqual([
      {
        subscription_id: row?.id,
        provider: 'razorpay',
        number: paid.razorpay_order_id,
        status: 'paid',
        currency: 'usd',
        amount_paid: '2900',
        period_start: row?.start,
        period_end: row?.end,
      },
    ])
    expect(await usageOf(h.sql, caller)).toEqual([
      { metric: 'api_calls', used: '0', quota: '101000', remaining: '101000' },
      { metric: 'api_keys', used: '0', quota: '20', remaining: '20' },
      { metric: 'projects', used: '0', quota: '100', remaining: '100' },
      { metric: 'requests', used: '0', quota: '1000', remaining: '1000' },
      { metric: 'storage_gb', used: '0', quota: '50', remaining: '50' },
    ])
  })

  it('answers the same subscription when verified twice, with one invoice', async () => {
    const caller = await h.signIn()
    const paid = await paidRazorpayCheckout(h, caller, 'pro')

    const first = await verify(caller, paid)
    const second = await verify(caller, paid)

    expect(first.status).toBe(200)
    expect(second).toEqual(first)
    expect(await subscriptionsOf(caller.id)).toHaveLength(1)
    expect(await invoicesOf(caller.id)).toHaveLength(1)
  })

  it('renews: a second order paid for the same plan extends the period by one month', async () => {
    const caller = await h.signIn()
    expect((await verify(caller, await paidRazorpayCheckout(h, caller, 'pro'))).status).toBe(200)
    const [first] = await subscriptionsOf(caller.id)

    const renewal = await paidRazorpayCheckout(h, caller, 'pro')
    const answer = await verify(caller, renewal)

    expect(answer).toEqual({
      status: 200,
      body: { subscription: expect.objectContaining({ id: first?.id, status: 'active' }) },
    })
    const [extended] = await h.sql<{ end: Date; expected: Date }[]>`
      select current_period_end as end,
        (${first?.end ?? null}::timestamptz at time zone 'UTC' + interval '1 month') at time zone 'UTC'
          as expected
      from tollgate.subscriptions where id = ${first?.id ?? null}`
    expect(extended?.end).toEqual(extended?.expected)
    // The current paid period is the month just bought (the billing anchor stays on the first).
    expect((await subscriptionsOf(caller.id)).map((s) => [s.id, s.start])).toEqual([
      [first?.id, first?.end],
    ])
    expect(
      (await invoicesOf(caller.id)).map((i) => [i.number, i.period_start, i.period_end]),
    ).toEqual([
      [expect.any(String), first?.start, first?.end],
      [renewal.razorpay_order_id, first?.end, extended?.end],
    ])
  })
})
