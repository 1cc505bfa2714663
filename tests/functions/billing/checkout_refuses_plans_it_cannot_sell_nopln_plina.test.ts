import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { billingHarness, footprintOf, type BillingHarness } from '../../helpers/billing.ts'

let h: BillingHarness
let retired: string
let priceless: string
beforeAll(async () => {
  h = await billingHarness()
  // Plans of this file only (unique ids), committed so the app's own connection sees them.
  retired = `retired-${randomUUID().slice(0, 8)}`
  priceless = `priceless-${randomUUID().slice(0, 8)}`
  await h.sql`
    insert into tollgate.plans (id, name, amount, currency, "interval", active, stripe_price_id)
    values (${retired}, 'Retired', 1900, 'usd', 'month', false, ${`price_${retired}`}),
           (${priceless}, 'No Stripe price', 1900, 'usd', 'month', true, null)`
})
afterAll(async () => {
  await h.sql`delete from tollgate.plans where id in (${retired}, ${priceless})`
  await h.close()
})

const nothing = { subscriptions: [], invoices: [], customers: [], refs: [], redemptions: [] }

describe('POST /billing/checkout of a plan that cannot be sold', () => {
  it('refuses an unknown plan (NOPLN) and reaches no provider', async () => {
    const caller = await h.signIn()
    const from = h.stripe.state.requests.length
    for (const provider of ['stripe', 'razorpay']) {
      expect(await h.post('checkout', caller, { plan_id: 'platinum', provider })).toEqual({
        status: 404,
        body: expect.objectContaining({ code: 'NOPLN' }),
      })
    }
    expect(h.stripe.state.requests.length).toBe(from)
    expect(h.razorpay.requests).toEqual([])
    expect(await footprintOf(h.sql, caller.id)).toEqual(nothing)
  })

  it('refuses an inactive plan (PLINA) with either provider', async () => {
    const caller = await h.signIn()
    const from = h.stripe.state.requests.length
    for (const provider of ['stripe', 'razorpay']) {
      expect(await h.post('checkout', caller, { plan_id: retired, provider })).toEqual({
        status: 422,
        body: expect.objectContaining({ code: 'PLINA' }),
      })
    }
    expect(h.stripe.state.requests.length).toBe(from)
    expect(h.razorpay.requests).toEqual([])
    expect(await footprintOf(h.sql, caller.id)).toEqual(nothing)
  })

  it('refuses a Stripe checkout of a plan without a Stripe price (PLINA)', async () => {
    const caller = await h.signIn()
    const from = h.stripe.state.requests.length
    expect(await h.post('checkout', caller, { plan_id: priceless })).toEqual({
      status: 422,
      body: expect.objectContaining({ code: 'PLINA' }),
    })
    expect(h.stripe.state.requests.length).toBe(from)
    expect(await footprintOf(h.sql, caller.id)).toEqual(nothing)
  })
})
