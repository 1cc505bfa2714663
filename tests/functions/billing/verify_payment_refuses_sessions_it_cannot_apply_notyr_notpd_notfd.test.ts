import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  billingHarness,
  footprintOf,
  paidStripeCheckout,
  type BillingHarness,
  type Caller,
} from '../../helpers/billing.ts'

let h: BillingHarness
beforeAll(async () => {
  h = await billingHarness()
})
afterAll(() => h.close())

const verify = (caller: Caller, sessionId: string) =>
  h.post('verify-payment', caller, { provider: 'stripe', session_id: sessionId })

describe('POST /billing/verify-payment with a Stripe session it cannot apply', () => {
  it("refuses someone else's paid session (NOTYR) and changes nobody's plan", async () => {
    const owner = await h.signIn()
    const intruder = await h.signIn()
    const paid = await paidStripeCheckout(h, owner, 'pro')
    const ownerBefore = await footprintOf(h.sql, owner.id)

    expect(await verify(intruder, paid.sessionId)).toEqual({
      status: 403,
      body: expect.objectContaining({ code: 'NOTYR' }),
    })
    expect(await footprintOf(h.sql, intruder.id)).toEqual({
      subscriptions: [],
      invoices: [],
      customers: [],
      refs: [],
      redemptions: [],
    })
    expect(await footprintOf(h.sql, owner.id)).toEqual(ownerBefore)
    expect(ownerBefore.subscriptions).toEqual([])
  })

  it('refuses a session that is still open (NOTPD)', async () => {
    const caller = await h.signIn()
    const checkout = await h.post('checkout', caller, { plan_id: 'pro' })
    const before = await footprintOf(h.sql, caller.id)

    expect(await verify(caller, checkout.body.session_id)).toEqual({
      status: 409,
      body: expect.objectContaining({ code: 'NOTPD' }),
    })
    expect(await footprintOf(h.sql, caller.id)).toEqual(before)
    expect(before.subscriptions).toEqual([])
  })

  it('refuses a session completed with its payment pending (NOTPD)', async () => {
    const caller = await h.signIn()
    const checkout = await h.post('checkout', caller, { plan_id: 'pro' })
    h.stripe.completeCheckout(checkout.body.session_id, { paymentStatus: 'unpaid' })
    const before = await footprintOf(h.sql, caller.id)

    expect(await verify(caller, checkout.body.session_id)).toEqual({
      status: 409,
      body: expect.objectContaining({ code: 'NOTPD' }),
    })
    expect(await footprintOf(h.sql, caller.id)).toEqual(before)
    expect(before.subscriptions).toEqual([])
  })

  it('answers 404 NOTFD for a session Stripe does not know', async () => {
    const caller = await h.signIn()
    expect(await verify(caller, 'cs_test_a1b2c3d4e5f6g7h8i9j0')).toEqual({
      status: 404,
      body: expect.objectContaining({ code: 'NOTFD' }),
    })
    expect((await footprintOf(h.sql, caller.id)).subscriptions).toEqual([])
  })

  it.each(['cs_', 'sub_123', 'cs_test_with space', `cs_${'a'.repeat(300)}`, ''])(
    'refuses the malformed session id %j (BADRQ) without asking Stripe',
    async (sessionId) => {
      const caller = await h.signIn()
      const from = h.stripe.state.requests.length
      expect(await verify(caller, sessionId)).toEqual({
        status: 400,
        body: expect.objectContaining({ code: 'BADRQ' }),
      })
      expect(h.stripe.state.requests.length).toBe(from)
    },
  )

  it('answers 502 PROVR when Stripe cannot be asked about the session', async () => {
    const caller = await h.signIn()
    const paid = await paidStripeCheckout(h, caller, 'pro')
    h.stripe.fail('GET', `/v1/checkout/sessions/${paid.sessionId}`, {
      status: 401,
      message: 'Invalid API key',
    })

    expect(await verify(caller, paid.sessionId)).toEqual({
      status: 502,
      body: expect.objectContaining({ code: 'PROVR' }),
    })
    expect((await footprintOf(h.sql, caller.id)).subscriptions).toEqual([])
  })
})
