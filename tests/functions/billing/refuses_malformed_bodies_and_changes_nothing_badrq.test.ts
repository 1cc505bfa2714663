import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { billingHarness, footprintOf, type BillingHarness, type Caller } from '../../helpers/billing.ts'

let h: BillingHarness
let caller: Caller
beforeAll(async () => {
  h = await billingHarness()
  caller = await h.signIn()
})
afterAll(() => h.close())

const json = (value: unknown): string => JSON.stringify(value)
const SIG = 'a'.repeat(64)

// [route, what, exact body, status, code]
const TABLE: [string, string, string, number, string][] = [
  ['checkout', 'invalid JSON', '{"plan_id": "pro"', 400, 'BADRQ'],
  ['checkout', 'an empty body', '', 400, 'BADRQ'],
  ['checkout', 'null', 'null', 400, 'BADRQ'],
  ['checkout', 'an array', json([{ plan_id: 'pro' }]), 400, 'BADRQ'],
  ['checkout', 'no plan_id', json({}), 400, 'BADRQ'],
  ['checkout', 'a numeric plan_id', json({ plan_id: 5 }), 400, 'BADRQ'],
  ['checkout', 'a list as plan_id', json({ plan_id: ['pro'] }), 400, 'BADRQ'],
  ['checkout', 'an unknown provider', json({ plan_id: 'pro', provider: 'paypal' }), 400, 'BADRQ'],
  ['checkout', 'a numeric coupon', json({ plan_id: 'pro', coupon_code: 20 }), 400, 'BADRQ'],
  ['checkout', 'a numeric success_url', json({ plan_id: 'pro', success_url: 42 }), 400, 'BADRQ'],
  [
    'checkout',
    'an extra user_id',
    json({ plan_id: 'pro', user_id: crypto.randomUUID() }),
    400,
    'BADRQ',
  ],
  ['checkout', 'an extra amount', json({ plan_id: 'pro', amount: 1 }), 400, 'BADRQ'],
  ['checkout', 'a SQL-looking plan id', json({ plan_id: "pro'; drop table x;--" }), 400, 'BADRQ'],
  [
    'checkout',
    'a SQL-looking coupon',
    json({ plan_id: 'pro', coupon_code: "WELCOME20' or '1'='1" }),
    400,
    'BADRQ',
  ],
  ['checkout', 'an upper-case plan id', json({ plan_id: 'PRO' }), 400, 'BADRQ'],
  ['checkout', 'a look-alike unicode plan id', json({ plan_id: 'pr\u043e' }), 400, 'BADRQ'],
  ['checkout', 'a prototype key', '{"plan_id": "pro", "__proto__": {"admin": true}}', 400, 'BADRQ'],
  [
    'checkout',
    'a plan id of 70,000 characters (TOOBG)',
    json({ plan_id: 'a'.repeat(70_000) }),
    413,
    'TOOBG',
  ],
  [
    'checkout',
    'a body padded past 64 KiB (TOOBG)',
    json({ plan_id: 'pro', pad: ' '.repeat(70_000) }),
    413,
    'TOOBG',
  ],
  ['verify-payment', 'no provider', json({ session_id: 'cs_test_abc' }), 400, 'BADRQ'],
  ['verify-payment', 'no session_id', json({ provider: 'stripe' }), 400, 'BADRQ'],
  [
    'verify-payment',
    'a numeric session_id',
    json({ provider: 'stripe', session_id: 12 }),
    400,
    'BADRQ',
  ],
  [
    'verify-payment',
    'a SQL-looking session id',
    json({ provider: 'stripe', session_id: "cs_test'; drop table x;--" }),
    400,
    'BADRQ',
  ],
  [
    'verify-payment',
    'a session id that is not one',
    json({ provider: 'stripe', session_id: 'sub_123' }),
    400,
    'BADRQ',
  ],
  [
    'verify-payment',
    'Razorpay fields for Stripe',
    json({ provider: 'stripe', session_id: 'cs_test_abc', razorpay_signature: SIG }),
    400,
    'BADRQ',
  ],
  [
    'verify-payment',
    'a Razorpay payment without signature',
    json({ provider: 'razorpay', razorpay_order_id: 'order_abc', razorpay_payment_id: 'pay_abc' }),
    400,
    'BADRQ',
  ],
  [
    'verify-payment',
    'a SQL-looking order id',
    json({
      provider: 'razorpay',
      razorpay_order_id: "order_x' or 1=1--",
      razorpay_payment_id: 'pay_abc',
      razorpay_signature: SIG,
    }),
    400,
    'BADRQ',
  ],
  [
    'verify-payment',
    'a signature that is not hex',
    json({
      provider: 'razorpay',
      razorpay_order_id: 'order_abc',
      razorpay_payment_id: 'pay_abc',
      razorpay_signature: 'z'.repeat(64),
    }),
    400,
    'BADRQ',
  ],
  ['change-plan', 'no plan_id', json({}), 400, 'BADRQ'],
  ['change-plan', 'a numeric plan_id', json({ plan_id: 7 }), 400, 'BADRQ'],
  [
    'change-plan',
    'an extra proration_behavior',
    json({ plan_id: 'enterprise', proration_behavior: 'none' }),
    400,
    'BADRQ',
  ],
  ['change-plan', 'a SQL-looking plan id', json({ plan_id: "enterprise' or 1=1--" }), 400, 'BADRQ'],
  ['portal', 'a numeric return_url', json({ return_url: 5 }), 400, 'BADRQ'],
  ['portal', 'a javascript: return_url', json({ return_url: 'javascript:alert(1)' }), 400, 'BADRQ'],
  ['portal', 'an extra customer', json({ customer: 'cus_someone_else' }), 400, 'BADRQ'],
  ['portal', 'invalid JSON', '{', 400, 'BADRQ'],
]
const CASES = TABLE.map(([route, what, body, status, code]) => ({
  route,
  what,
  body,
  status,
  code,
}))

describe('POST /billing/* with a malformed body', () => {
  it.each(CASES)('$route refuses $what ($status $code) and changes nothing', async (c) => {
    const { route, body, status, code } = c
    const stripeBefore = h.stripe.state.requests.length
    const razorpayBefore = h.razorpay.requests.length
    const answer = await h.post(route, caller, body)
    expect(answer).toEqual({ status, body: expect.objectContaining({ code, hint: null }) })
    expect(Object.keys(answer.body).sort()).toEqual(['code', 'details', 'hint', 'message'])
    expect(h.stripe.state.requests.length).toBe(stripeBefore)
    expect(h.razorpay.requests.length).toBe(razorpayBefore)
    expect(await footprintOf(h.sql, caller.id)).toEqual({
      subscriptions: [],
      invoices: [],
      customers: [],
      refs: [],
      redemptions: [],
    })
  })

  it('never puts SQL text or a stack in the error body', async () => {
    const answer = await h.post('checkout', caller, json({ plan_id: "pro'; drop table x;--" }))
    expect(JSON.stringify(answer.body)).not.toMatch(
      /drop table|select |tollgate_private|at .*\.ts/i,
    )
  })
})
