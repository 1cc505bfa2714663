import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUser } from '../../helpers/db.ts'
import {
  eventBody,
  makeStripeEvent,
  type SignedDelivery,
  signedDelivery,
  signStripeBody,
  type StripeJson,
} from '../../helpers/stripe/events.ts'
import {
  newWorld,
  nowSeconds,
  type StripeWorld,
  subscriptionFixture,
} from '../../helpers/stripe/fixtures.ts'
import {
  answer,
  ledgerOf,
  subscriptionsOf,
  WEBHOOK_SECRET,
  type WebhookHarness,
  webhookHarness,
} from '../../helpers/stripe/webhook.ts'

let h: WebhookHarness
beforeAll(async () => {
  h = await webhookHarness()
})
afterAll(() => h.close())

/** A real subscription event for a fresh user, which a valid signature would apply. */
const setup = async (): Promise<{ world: StripeWorld; event: StripeJson }> => {
  const world = newWorld((await createUser(h.sql)).id)
  return {
    world,
    event: makeStripeEvent('customer.subscription.created', subscriptionFixture(world)),
  }
}

const headers = (signature?: string): Record<string, string> => ({
  'content-type': 'application/json; charset=utf-8',
  ...(signature === undefined ? {} : { 'stripe-signature': signature }),
})

type Forgery = (event: StripeJson) => Promise<SignedDelivery>

const forgeries: [string, string, Forgery][] = [
  [
    'no Stripe-Signature header',
    'missing',
    async (event) => ({ body: eventBody(event), headers: headers() }),
  ],
  [
    'an empty Stripe-Signature header',
    'missing',
    async (event) => ({ body: eventBody(event), headers: headers('') }),
  ],
  [
    'a forged v1 signature',
    'mismatch',
    async (event) => ({
      body: eventBody(event),
      headers: headers(`t=${nowSeconds()},v1=${'ab'.repeat(32)}`),
    }),
  ],
  [
    'a signature made with another secret',
    'mismatch',
    (event) => signedDelivery(event, 'whsec_not_ours'),
  ],
  [
    'the signature of another body',
    'mismatch',
    async (event) => {
      const signed = await signedDelivery(event, WEBHOOK_SECRET)
      return { ...signed, body: signed.body.replace('"active"', '"past_due"') }
    },
  ],
  [
    'a signature older than 300 s',
    'stale',
    (event) => signedDelivery(event, WEBHOOK_SECRET, { timestamp: nowSeconds() - 301 }),
  ],
  [
    'a signature dated more than 300 s in the future',
    'future',
    (event) => signedDelivery(event, WEBHOOK_SECRET, { timestamp: nowSeconds() + 301 }),
  ],
  [
    'a header without a timestamp',
    'malformed',
    async (event) => {
      const signed = await signedDelivery(event, WEBHOOK_SECRET)
      const v1 = signed.headers['stripe-signature']?.split(',')[1] ?? ''
      return { ...signed, headers: headers(v1) }
    },
  ],
  [
    'a header with only a v0 signature',
    'malformed',
    async (event) => {
      const body = eventBody(event)
      const signature = await signStripeBody(body, WEBHOOK_SECRET)
      return { body, headers: headers(signature.replace(',v1=', ',v0=')) }
    },
  ],
]

describe('stripe-webhook refuses requests Stripe did not sign (BADSG)', () => {
  it.each(forgeries)(
    'refuses %s with 400 (BADSG) and changes nothing',
    async (_name, reason, forge) => {
      const { world, event } = await setup()
      const response = await answer(await h.post(await forge(event)))
      expect(response).toEqual({
        status: 400,
        body: {
          code: 'BADSG',
          message: 'The webhook signature is missing, invalid or stale',
          details: { reason },
          hint: null,
        },
      })
      expect(await ledgerOf(h.sql, [event.id])).toEqual([])
      expect(await subscriptionsOf(h.sql, world.userId)).toEqual([])
    },
  )

  it('applies the same event once it is signed properly', async () => {
    const { world, event } = await setup()
    expect((await h.post(await signedDelivery(event, 'whsec_not_ours'))).status).toBe(400)
    expect(await answer(await h.deliver(event))).toEqual({ status: 200, body: { received: true } })
    expect((await subscriptionsOf(h.sql, world.userId)).map((s) => s.status)).toEqual(['active'])
  })
})
