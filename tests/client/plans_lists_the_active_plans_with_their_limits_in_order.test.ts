import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Plan } from '../../packages/client/src/index.ts'
import { type ClientStack, startClientStack } from './support.ts'

let stack: ClientStack
// Plans of this file only (unique ids), committed so PostgREST's connections see them.
const middle = `middle-${randomUUID().slice(0, 8)}`
const retired = `retired-${randomUUID().slice(0, 8)}`

beforeAll(async () => {
  stack = await startClientStack()
  await stack.sql`
    insert into tollgate.plans (id, name, amount, currency, "interval", active, sort_order)
    values (${middle}, 'Between pro and enterprise', 4900, 'usd', 'year', true, 15),
           (${retired}, 'Retired', 1900, 'usd', 'month', false, 5)`
  // Inserted out of metric order: the answer must sort them.
  await stack.sql`
    insert into tollgate.plan_limits (plan_id, metric, quota, period, carry_over)
    values (${middle}, 'storage_gb', 70, 'never', false),
           (${middle}, 'api_calls', 200000, 'day', true),
           (${middle}, 'projects', -1, 'never', false),
           (${retired}, 'api_calls', 5, 'month', false)`
})
afterAll(async () => {
  await stack.sql`delete from tollgate.plans where id in (${middle}, ${retired})`
  await stack.close()
})

const limitsOf = (planId: string, rows: [string, number, string, boolean][]) =>
  rows.map(([metric, quota, period, carry_over]) => ({
    plan_id: planId,
    metric,
    quota,
    period,
    carry_over,
  }))

// CONTRACT.md "Seeded plans", as PostgREST serializes them (bigint as JSON numbers).
const SEEDED = {
  free: {
    amount: 0,
    currency: 'usd',
    interval: 'month',
    stripe_price_id: null,
    active: true,
    limits: limitsOf('free', [
      ['api_calls', 1000, 'month', false],
      ['api_keys', 2, 'never', false],
      ['projects', 3, 'never', false],
      ['requests', 100, 'hour', false],
      ['storage_gb', 1, 'never', false],
    ]),
  },
  pro: {
    amount: 2900,
    currency: 'usd',
    interval: 'month',
    stripe_price_id: 'price_pro_monthly',
    active: true,
    limits: limitsOf('pro', [
      ['api_calls', 100000, 'month', true],
      ['api_keys', 20, 'never', false],
      ['projects', 100, 'never', false],
      ['requests', 1000, 'hour', false],
      ['storage_gb', 50, 'never', false],
    ]),
  },
  enterprise: {
    amount: 9900,
    currency: 'usd',
    interval: 'month',
    stripe_price_id: 'price_enterprise_monthly',
    active: true,
    limits: limitsOf('enterprise', [
      ['api_calls', 1000000, 'month', true],
      ['api_keys', -1, 'never', false],
      ['projects', -1, 'never', false],
      ['requests', 10000, 'hour', false],
      ['storage_gb', 500, 'never', false],
    ]),
  },
}

// Other test files may commit plans of their own meanwhile: only ours and the seed are compared.
const known = (plans: Plan[]) =>
  plans.filter((plan) => ['free', 'pro', 'enterprise', middle, retired].includes(plan.id))

describe('plans()', () => {
  it('answers the seeded plans with their limits, without a session', async () => {
    const { tollgate } = stack.clientFor(null)

    const plans = await tollgate.plans()

    expect(known(plans).map((plan) => plan.id)).toEqual(['free', 'pro', middle, 'enterprise'])
    for (const [id, expected] of Object.entries(SEEDED)) {
      expect(plans.find((plan) => plan.id === id)).toMatchObject(expected)
    }
    const free = plans.find((plan) => plan.id === 'free')
    expect(free?.features).toEqual(['1,000 API calls a month', '3 projects', '1 GB storage'])
    expect(Date.parse(String(free?.created_at))).not.toBeNaN()
    // It ran as PostgREST runs the anon key: role anon, under RLS.
    expect(stack.postgrest.requests.at(-1)).toMatchObject({ role: 'anon', status: 200 })
  })

  it('orders plans by sort_order and each plan’s limits by metric', async () => {
    const { tollgate } = await stack.signIn()

    const plans = await tollgate.plans()

    const orders = plans.map((plan) => plan.sort_order)
    expect(orders).toEqual([...orders].sort((a, b) => a - b))
    for (const plan of plans) {
      const metrics = plan.limits.map((limit) => limit.metric)
      expect(metrics).toEqual([...metrics].sort())
      expect(plan.limits.every((limit) => limit.plan_id === plan.id)).toBe(true)
    }
    expect(plans.find((plan) => plan.id === middle)).toMatchObject({
      amount: 4900,
      interval: 'year',
      limits: limitsOf(middle, [
        ['api_calls', 200000, 'day', true],
        ['projects', -1, 'never', false],
        ['storage_gb', 70, 'never', false],
      ]),
    })
    expect(stack.postgrest.requests.at(-1)).toMatchObject({ role: 'authenticated', status: 200 })
  })

  it('leaves inactive plans out, also for an admin whom RLS lets read them', async () => {
    const admin = await stack.signIn({ admin: true })

    expect((await admin.tollgate.plans()).map((plan) => plan.id)).not.toContain(retired)
    expect((await stack.clientFor(null).tollgate.plans()).every((plan) => plan.active)).toBe(true)
    // The filter is the client's: the same read without it shows the admin the retired plan.
    const { data } = await admin.supabase.schema('tollgate').from('plans').select('id')
    expect(data?.map((row) => row.id)).toContain(retired)
    expect(stack.strays).toEqual([])
  })
})
