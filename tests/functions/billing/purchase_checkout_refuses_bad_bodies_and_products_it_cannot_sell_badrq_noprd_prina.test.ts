import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { billingHarness, footprintOf, type BillingHarness } from '../../helpers/billing.ts'
import { purchaseStateOf } from '../../helpers/purchases.ts'

let h: BillingHarness
const RETIRED = `retired_${Date.now()}`
beforeAll(async () => {
  h = await billingHarness()
  await h.sql`
    insert into tollgate.products (id, name, amount, currency, metric, credits, active)
    values (${RETIRED}, 'Retired pack', 500, 'usd', 'api_calls', 100, false)`
})
afterAll(async () => {
  await h.sql`delete from tollgate.products where id = ${RETIRED}`
  await h.close()
})

describe('POST /billing/checkout {product_id} refuses, changing nothing and calling no provider', () => {
  it.for([
    ['quantity 0', { product_id: 'api_calls_pack', quantity: 0 }, ['quantity']],
    ['quantity 1001', { product_id: 'api_calls_pack', quantity: 1001 }, ['quantity']],
    ['a non-integer quantity', { product_id: 'api_calls_pack', quantity: 1.5 }, ['quantity']],
    ['a quantity as text', { product_id: 'api_calls_pack', quantity: '3' }, ['quantity']],
    ['a plan and a product', { plan_id: 'pro', product_id: 'api_calls_pack' }, []],
    ['a quantity with a plan', { plan_id: 'pro', quantity: 2 }, []],
    ['neither', { provider: 'stripe' }, ['plan_id']],
    ['a product id that is no slug', { product_id: 'API Calls!' }, ['product_id']],
  ] as const)('%s (400 BADRQ)', async ([, body, path]) => {
    const caller = await h.signIn()
    const stripeFrom = h.stripe.state.requests.length
    const razorpayFrom = h.razorpay.requests.length

    const answer = await h.post('checkout', caller, body)
    expect(answer).toMatchObject({ status: 400, body: { code: 'BADRQ' } })
    // The field at fault is named (an unknown key is reported on the body itself).
    expect(answer.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ path })]))

    expect(h.stripe.state.requests.length).toBe(stripeFrom)
    expect(h.razorpay.requests.length).toBe(razorpayFrom)
    expect(await footprintOf(h.sql, caller.id)).toEqual({
      subscriptions: [],
      invoices: [],
      customers: [],
      refs: [],
      redemptions: [],
    })
  })

  it('an unknown product (404 NOPRD) and an inactive one (422 PRINA), with either provider', async () => {
    const caller = await h.signIn()
    const stripeFrom = h.stripe.state.requests.length
    const razorpayFrom = h.razorpay.requests.length
    for (const provider of ['stripe', 'razorpay']) {
      expect(await h.post('checkout', caller, { product_id: 'no_such_pack', provider })).toMatchObject({
        status: 404,
        body: { code: 'NOPRD' },
      })
      expect(await h.post('checkout', caller, { product_id: RETIRED, provider })).toMatchObject({
        status: 422,
        body: { code: 'PRINA' },
      })
    }
    expect(h.stripe.state.requests.length).toBe(stripeFrom)
    expect(h.razorpay.requests.length).toBe(razorpayFrom)
    expect((await footprintOf(h.sql, caller.id)).refs).toEqual([])
  })

  it('accepts 1000 packs, and 1 when quantity is left out', async () => {
    const caller = await h.signIn()
    const many = await h.post('checkout', caller, { product_id: 'api_calls_pack', quantity: 1000 })
    const one = await h.post('checkout', caller, { product_id: 'api_calls_pack' })
    expect(h.stripe.state.checkoutSessions.get(many.body.session_id)).toMatchObject({ amount_total: 1000000 })
    expect(h.stripe.state.checkoutSessions.get(one.body.session_id)).toMatchObject({ amount_total: 1000 })
    expect(await purchaseStateOf(h.sql, caller.id)).toEqual({ purchases: [], credits: [], notifications: [] })
  })
})
