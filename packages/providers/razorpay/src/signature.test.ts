import { describe, expect, it } from 'vitest'
import { fixtureText, signatureVectors } from '../fixtures/load.ts'
import {
  hmacSha256Hex,
  verifyHmacSha256Hex,
  verifyPaymentSignature,
  verifyWebhookSignature,
} from './signature.ts'

const vectors = signatureVectors()
const accepted = vectors.webhook.filter((vector) => vector.expect === 'accept')
const [documented] = accepted
if (!documented) throw new Error('signature-vectors.json has no accepted webhook vector')
const [order] = vectors.checkout_order
if (!order) throw new Error('signature-vectors.json has no checkout_order vector')

describe('verifyWebhookSignature with the official vectors', () => {
  it.each(vectors.webhook)('$expect: $name', async (vector) => {
    expect(
      await verifyWebhookSignature({
        body: vector.raw_body,
        signature: vector.x_razorpay_signature,
        secret: vector.webhook_secret,
      }),
    ).toBe(vector.expect === 'accept')
  })

  it.each(accepted)('verifies the raw bytes as well as the string: $name', async (vector) => {
    expect(
      await verifyWebhookSignature({
        body: new TextEncoder().encode(vector.raw_body),
        signature: vector.x_razorpay_signature,
        secret: vector.webhook_secret,
      }),
    ).toBe(true)
  })

  it.each(accepted)('signs to the same hex: $name', async (vector) => {
    expect(await hmacSha256Hex(vector.raw_body, vector.webhook_secret)).toBe(
      vector.x_razorpay_signature,
    )
  })
})

describe('verifyWebhookSignature refuses what Razorpay did not sign', () => {
  const valid = {
    body: documented.raw_body,
    signature: documented.x_razorpay_signature,
    secret: documented.webhook_secret,
  }

  it('accepts the documented delivery (control)', async () => {
    expect(await verifyWebhookSignature(valid)).toBe(true)
  })

  it('refuses the same event re-serialised (pretty file, or parsed and stringified again)', async () => {
    const pretty = fixtureText('webhooks/payment.captured.card.razorpay-node.json')
    expect(JSON.parse(pretty)).toEqual(JSON.parse(documented.raw_body))
    expect(await verifyWebhookSignature({ ...valid, body: pretty })).toBe(false)
    const reordered = JSON.stringify(JSON.parse(documented.raw_body), null, 1)
    expect(await verifyWebhookSignature({ ...valid, body: reordered })).toBe(false)
  })

  it('refuses a body changed by one character', async () => {
    const tampered = documented.raw_body.replace('"amount":2244', '"amount":2245')
    expect(tampered).not.toBe(documented.raw_body)
    expect(await verifyWebhookSignature({ ...valid, body: tampered })).toBe(false)
  })

  it('refuses another secret, and an empty one', async () => {
    expect(await verifyWebhookSignature({ ...valid, secret: '1234567' })).toBe(false)
    expect(await verifyWebhookSignature({ ...valid, secret: '' })).toBe(false)
  })

  it('refuses missing, empty, truncated, extended and non-hex signatures', async () => {
    const sig = documented.x_razorpay_signature
    for (const signature of [
      undefined,
      null,
      '',
      sig.slice(0, 63),
      sig.slice(0, 62),
      `${sig}00`,
      `sha256=${sig}`,
      `${sig.slice(0, 63)}g`,
      sig.replace(/^./, sig[0] === 'a' ? 'b' : 'a'),
    ]) {
      expect(await verifyWebhookSignature({ ...valid, signature })).toBe(false)
    }
  })
})

describe('verifyPaymentSignature (Checkout: order_id|payment_id with the key secret)', () => {
  it.each(vectors.checkout_order)('$expect: $message', async (vector) => {
    expect(`${vector.order_id}|${vector.razorpay_payment_id}`).toBe(vector.message)
    expect(
      await verifyPaymentSignature({
        orderId: vector.order_id,
        paymentId: vector.razorpay_payment_id,
        signature: vector.razorpay_signature,
        keySecret: vector.key_secret,
      }),
    ).toBe(vector.expect === 'accept')
  })

  it('refuses the ids swapped, another order, another key secret and no signature', async () => {
    const valid = {
      orderId: order.order_id,
      paymentId: order.razorpay_payment_id,
      signature: order.razorpay_signature,
      keySecret: order.key_secret,
    }
    expect(await verifyPaymentSignature(valid)).toBe(true)
    expect(
      await verifyPaymentSignature({
        ...valid,
        orderId: valid.paymentId,
        paymentId: valid.orderId,
      }),
    ).toBe(false)
    expect(await verifyPaymentSignature({ ...valid, orderId: 'order_IEIaMR65cu6nz4' })).toBe(false)
    expect(await verifyPaymentSignature({ ...valid, keySecret: 'EnLs21M47BllR3X8PSFtjtbe' })).toBe(
      false,
    )
    expect(await verifyPaymentSignature({ ...valid, signature: undefined })).toBe(false)
  })
})

describe('verifyHmacSha256Hex with the other official Checkout vectors', () => {
  it.each(vectors.checkout_subscription)('subscription $expect: $message', async (vector) => {
    // Subscriptions sign payment_id|subscription_id: the reverse order of orders.
    const message = `${vector.razorpay_payment_id}|${vector.subscription_id}`
    expect(message).toBe(vector.message)
    expect(
      await verifyHmacSha256Hex({
        message,
        secret: vector.key_secret,
        signature: vector.razorpay_signature,
      }),
    ).toBe(vector.expect === 'accept')
  })

  it.each(vectors.payment_link)('payment link $expect: $message', async (vector) => {
    const message = [
      vector.payment_link_id,
      vector.payment_link_reference_id,
      vector.payment_link_status,
      vector.razorpay_payment_id,
    ].join('|')
    expect(message).toBe(vector.message)
    expect(
      await verifyHmacSha256Hex({
        message,
        secret: vector.key_secret,
        signature: vector.razorpay_signature,
      }),
    ).toBe(vector.expect === 'accept')
  })
})
