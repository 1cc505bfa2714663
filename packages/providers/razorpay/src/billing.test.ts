import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeRazorpay, type FakeRazorpay } from '../../../../tests/helpers/fake-razorpay.ts'
import { createRazorpayCheckout, verifyRazorpayPayment } from './billing.ts'
import { hmacSha256Hex } from './signature.ts'

let fake: FakeRazorpay
beforeAll(async () => {
  fake = await startFakeRazorpay()
})
afterAll(async () => {
  await fake.close()
})

const checkout = {
  userId: '5b3c1f0e-1a2b-4c3d-8e9f-0a1b2c3d4e5f',
  planId: 'pro',
  checkoutId: '3f2a9c1e-7d4b-4e0a-9b1c-2d3e4f5a6b7c',
  amount: 2900,
  currency: 'inr',
}

const failureOf = async (promise: Promise<unknown>) => {
  try {
    await promise
  } catch (error) {
    return error as { code: string; details: unknown }
  }
  throw new Error('expected a failure')
}

describe('createRazorpayCheckout', () => {
  it('creates the order of a checkout and answers it with the key id', async () => {
    const before = fake.requests.length
    const answer = await createRazorpayCheckout(fake.env, checkout)
    expect(answer).toEqual({
      orderId: expect.stringMatching(/^order_/),
      amount: 2900,
      currency: 'INR',
      keyId: fake.keyId,
    })
    expect(fake.requests.slice(before).map((request) => [request.path, request.body])).toEqual([
      [
        '/v1/orders',
        {
          amount: 2900,
          currency: 'INR',
          receipt: checkout.checkoutId,
          notes: {
            user_id: checkout.userId,
            plan_id: 'pro',
            tollgate_checkout_id: checkout.checkoutId,
          },
        },
      ],
    ])
  })

  it.each(['RAZORPAY_KEY_ID', 'RAZORPAY_KEY_SECRET'] as const)(
    'refuses without %s (NOCFG) and sends nothing',
    async (name) => {
      const before = fake.requests.length
      const failure = await failureOf(
        createRazorpayCheckout({ ...fake.env, [name]: undefined }, checkout),
      )
      expect(failure).toMatchObject({ code: 'NOCFG', details: { missing: name } })
      expect(fake.requests.length).toBe(before)
    },
  )
})

describe('verifyRazorpayPayment', () => {
  const proof = { orderId: 'order_A1', paymentId: 'pay_B2' }

  it('accepts the signature Razorpay Checkout computes with the key secret', async () => {
    const signature = await hmacSha256Hex(`${proof.orderId}|${proof.paymentId}`, fake.keySecret)
    await expect(verifyRazorpayPayment(fake.env, { ...proof, signature })).resolves.toBeUndefined()
  })

  it('refuses a signature made with another secret (BADSG)', async () => {
    const signature = await hmacSha256Hex(`${proof.orderId}|${proof.paymentId}`, 'another')
    const failure = await failureOf(verifyRazorpayPayment(fake.env, { ...proof, signature }))
    expect(failure).toHaveProperty('code', 'BADSG')
  })

  it('refuses without RAZORPAY_KEY_SECRET (NOCFG), never another secret', async () => {
    const signature = await hmacSha256Hex(`${proof.orderId}|${proof.paymentId}`, 'any')
    const env = { ...fake.env, RAZORPAY_KEY_SECRET: undefined }
    const failure = await failureOf(verifyRazorpayPayment(env, { ...proof, signature }))
    expect(failure).toMatchObject({ code: 'NOCFG', details: { missing: 'RAZORPAY_KEY_SECRET' } })
  })
})
