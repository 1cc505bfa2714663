import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  billingHarness,
  customerOf,
  ORIGIN,
  subscribeWithStripe,
  type BillingHarness,
} from '../../helpers/billing.ts'

let h: BillingHarness
beforeAll(async () => {
  h = await billingHarness()
})
afterAll(() => h.close())

const portalPosts = (from: number) =>
  h.stripe.state.requests.slice(from).filter((r) => r.path === '/v1/billing_portal/sessions')

describe('POST /billing/portal', () => {
  it("answers the portal URL for the user's Stripe customer, returning to the allowed origin", async () => {
    const caller = await h.signIn()
    await subscribeWithStripe(h, caller, 'verify', 'pro')
    const customer = await customerOf(h.sql, caller.id)
    const from = h.stripe.state.requests.length

    const answer = await h.post('portal', caller, { return_url: `${ORIGIN}/account` })

    expect(answer).toEqual({
      status: 200,
      body: { url: expect.stringMatching(/^https:\/\/billing\.stripe\.com\/p\/session\//) },
    })
    const [session] = [...h.stripe.state.portalSessions.values()].filter(
      (s) => s.url === answer.body.url,
    )
    expect(session).toMatchObject({ customer, return_url: `${ORIGIN}/account` })
    // A retried request is not a second portal session (the SDK's own key when we set none).
    expect(portalPosts(from)).toEqual([
      expect.objectContaining({ status: 200, idempotencyKey: expect.any(String) }),
    ])
  })

  it('returns to the first allowed origin when no return_url is given (empty body too)', async () => {
    const caller = await h.signIn()
    // A checkout left unpaid still made the user a Stripe customer.
    expect((await h.post('checkout', caller, { plan_id: 'pro' })).status).toBe(200)
    const customer = await customerOf(h.sql, caller.id)

    for (const body of [{}, '']) {
      const answer = await h.post('portal', caller, body)
      expect(answer.status).toBe(200)
      const [session] = [...h.stripe.state.portalSessions.values()].filter(
        (s) => s.url === answer.body.url,
      )
      expect(session).toMatchObject({ customer, return_url: `${ORIGIN}/?checkout=return` })
    }
  })

  it('refuses a user who is not a Stripe customer (NOSUB)', async () => {
    const caller = await h.signIn()
    const from = h.stripe.state.requests.length
    expect(await h.post('portal', caller, {})).toEqual({
      status: 404,
      body: expect.objectContaining({ code: 'NOSUB' }),
    })
    expect(portalPosts(from)).toEqual([])
  })

  it.each(['https://evil.example.test/account', 'http://app.example.test/account'])(
    'refuses return_url %s outside the allowed origins (BADRQ)',
    async (url) => {
      const caller = await h.signIn()
      await h.post('checkout', caller, { plan_id: 'pro' })
      const from = h.stripe.state.requests.length
      expect(await h.post('portal', caller, { return_url: url })).toEqual({
        status: 400,
        body: expect.objectContaining({ code: 'BADRQ' }),
      })
      expect(portalPosts(from)).toEqual([])
    },
  )
})
