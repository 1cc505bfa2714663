import { describe, expect, it } from 'vitest'
import { fixtureText, webhookSampleNames } from '../fixtures/load.ts'
import { parseRazorpayWebhook, RazorpayNotes } from './webhook.ts'

const parseSample = (name: string) => {
  const result = parseRazorpayWebhook(fixtureText(`webhooks/${name}.json`))
  if (!result.ok) throw new Error(`${name}: ${JSON.stringify(result.problem)}`)
  return result.value
}

describe('parseRazorpayWebhook with the official samples', () => {
  it('has the samples to parse', () => {
    expect(webhookSampleNames()).toHaveLength(19)
  })

  it.each(webhookSampleNames())('parses %s and keeps the JSON as sent', (name) => {
    const { event, json } = parseSample(name)
    const sent = JSON.parse(fixtureText(`webhooks/${name}.json`)) as { event: string }
    expect(event.event).toBe(sent.event)
    expect(json).toEqual(sent)
  })

  it('reads payment.captured: the payment with its order, amount and status', () => {
    const { event } = parseSample('payment.captured.card')
    expect(event.payload.payment?.entity).toMatchObject({
      id: 'pay_DESp9bgForNoUd',
      order_id: 'order_DESoU0U4ikYA19',
      amount: 100,
      currency: 'INR',
      status: 'captured',
      captured: true,
      notes: {},
    })
    expect(event.created_at).toBe(1691735748)
  })

  it('reads order.paid: the payment and the paid order', () => {
    const { event } = parseSample('order.paid.upi')
    expect(event.payload.payment?.entity).toMatchObject({ id: 'pay_DESyzxuld02Zul' })
    expect(event.payload.order?.entity).toMatchObject({
      id: 'order_DESxiijbl9xjDB',
      amount: 100,
      amount_paid: 100,
      amount_due: 0,
      status: 'paid',
      notes: {},
    })
  })

  it('reads payment.failed with its error', () => {
    const { event } = parseSample('payment.failed.upi')
    expect(event.payload.payment?.entity).toMatchObject({
      status: 'failed',
      captured: false,
      error_code: 'BAD_REQUEST_ERROR',
      error_description: 'Payment failed',
    })
  })

  it('accepts the quirks of the samples: captured "1", notes objects, no top-level created_at', () => {
    expect(parseSample('subscription.charged').event.payload.payment?.entity.captured).toBe(true)
    expect(
      parseSample('payment.captured.card.razorpay-node').event.payload.payment?.entity.notes,
    ).toEqual({ policy_name: 'Jeevan Bima' })
    expect(parseSample('subscription.activated.immediate-start').event.created_at).toBeUndefined()
  })
})

describe('parseRazorpayWebhook refuses what is not a Razorpay event', () => {
  const captured = JSON.parse(fixtureText('webhooks/payment.captured.card.json')) as {
    payload: { payment: { entity: Record<string, unknown> } }
  }
  const orderPaid = JSON.parse(fixtureText('webhooks/order.paid.card.json')) as {
    payload: Record<string, unknown>
  }

  it('refuses a body that is not JSON', () => {
    expect(parseRazorpayWebhook('{"event": "payment.captured"')).toMatchObject({
      ok: false,
      problem: { reason: 'json' },
    })
    expect(parseRazorpayWebhook('')).toMatchObject({ ok: false, problem: { reason: 'json' } })
  })

  it.each([
    ['an array', []],
    ['no event', { payload: {} }],
    ['no payload', { event: 'payment.captured' }],
    ['payment.captured without the payment', { event: 'payment.captured', payload: {} }],
    [
      'order.paid without the order',
      { ...orderPaid, payload: { payment: orderPaid.payload.payment } },
    ],
    [
      'an amount that is not an integer',
      {
        ...captured,
        payload: { payment: { entity: { ...captured.payload.payment.entity, amount: '100' } } },
      },
    ],
    [
      'a payment id that is not one',
      {
        ...captured,
        payload: {
          payment: { entity: { ...captured.payload.payment.entity, id: "1' or '1'='1" } },
        },
      },
    ],
  ])('refuses %s', (_name, body) => {
    expect(parseRazorpayWebhook(JSON.stringify(body))).toMatchObject({
      ok: false,
      problem: { reason: 'shape' },
    })
  })

  it('lets through event types Tollgate does not act on', () => {
    const result = parseRazorpayWebhook(
      JSON.stringify({
        event: 'payment.dispute.created',
        payload: { dispute: { entity: { id: 'disp_1' } } },
      }),
    )
    expect(result).toMatchObject({ ok: true, value: { event: { event: 'payment.dispute.created' } } })
  })

  it('refuses a refund event without a whole refund entity (refund.* are applied now)', () => {
    const refund = { id: 'rfnd_1', amount: 100, currency: 'INR', payment_id: 'pay_1', status: 'processed' }
    for (const payload of [{}, { refund: { entity: { id: 'rfnd_1' } } }]) {
      expect(parseRazorpayWebhook(JSON.stringify({ event: 'refund.processed', payload })).ok).toBe(false)
    }
    expect(
      parseRazorpayWebhook(JSON.stringify({ event: 'refund.processed', payload: { refund: { entity: refund } } })),
    ).toMatchObject({ ok: true })
  })
})

describe('RazorpayNotes', () => {
  it('turns [] into {} and scalar values into text', () => {
    expect(RazorpayNotes.parse([])).toEqual({})
    expect(RazorpayNotes.parse({ user_id: 'u', n: 3, b: true, x: null })).toEqual({
      user_id: 'u',
      n: '3',
      b: 'true',
      x: '',
    })
  })

  it('refuses a non-empty array and nested objects', () => {
    expect(RazorpayNotes.safeParse(['a']).success).toBe(false)
    expect(RazorpayNotes.safeParse({ a: { b: 1 } }).success).toBe(false)
  })
})
