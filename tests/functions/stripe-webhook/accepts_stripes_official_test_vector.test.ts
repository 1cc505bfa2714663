import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readStripeFixture } from '../../helpers/stripe/events.ts'
import { answer, ledgerOf, type WebhookHarness, webhookHarness } from '../../helpers/stripe/webhook.ts'

type Vector = {
  secret: string
  timestamp: number
  stripe_signature_header: string
  raw_body: string
  cases: { name: string; now?: number }[]
}

const vector = readStripeFixture<Vector>('webhook-signature-vector.json')
const nowOf = (name: string): number => {
  const found = vector.cases.find((c) => c.name === name)?.now
  if (found === undefined) throw new Error(`no case ${name}`)
  return found
}

// The function's clock, set per test to the vector case's `now`.
let clock = 0
let h: WebhookHarness
beforeAll(async () => {
  h = await webhookHarness({ now: () => clock })
})
afterAll(() => h.close())

const post = (body: string) =>
  h.post(
    {
      body,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'stripe-signature': vector.stripe_signature_header,
      },
    },
    { STRIPE_WEBHOOK_SECRET: vector.secret },
  )

describe("Stripe's official webhook test vector, through the function", () => {
  it('valid_within_tolerance: 200 and the event (customer.created) recorded as ignored', async () => {
    clock = nowOf('valid_within_tolerance')
    expect(await answer(await post(vector.raw_body))).toEqual({
      status: 200,
      body: { received: true },
    })
    expect(await ledgerOf(h.sql, ['evt_123'])).toEqual([
      expect.objectContaining({
        type: 'customer.created',
        api_version: '2017-05-25',
        outcome: 'ignored',
      }),
    ])
  })

  it('stale_timestamp: 400 (BADSG)', async () => {
    clock = nowOf('stale_timestamp')
    const response = await answer(await post(vector.raw_body))
    expect(response).toMatchObject({
      status: 400,
      body: { code: 'BADSG', details: { reason: 'stale' } },
    })
  })

  it('tampered_body: 400 (BADSG)', async () => {
    clock = nowOf('tampered_body')
    const response = await answer(await post(`${vector.raw_body}this_changes_the_json`))
    expect(response).toMatchObject({
      status: 400,
      body: { code: 'BADSG', details: { reason: 'mismatch' } },
    })
  })
})
