const encoder = new TextEncoder()

// A SHA-256 HMAC is 32 bytes: 64 hex digits, which is what Razorpay sends.
const SIGNATURE_HEX = /^[0-9a-fA-F]{64}$/

// A copy on a plain ArrayBuffer, which is what WebCrypto takes.
const bytesOf = (message: string | Uint8Array): Uint8Array<ArrayBuffer> =>
  new Uint8Array(typeof message === 'string' ? encoder.encode(message) : message)

type HmacKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>

const hmacKey = (secret: string, usage: 'sign' | 'verify'): Promise<HmacKey> =>
  crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    usage,
  ])

const hexOf = (bytes: ArrayBuffer): string =>
  Array.from(new Uint8Array(bytes), (byte) => byte.toString(16).padStart(2, '0')).join('')

// Parsing the header depends only on the header, never on the secret, so it needs no constant time.
const signatureBytes = (signature: string): Uint8Array<ArrayBuffer> | null => {
  if (!SIGNATURE_HEX.test(signature)) return null
  const bytes = new Uint8Array(32)
  for (let i = 0; i < 32; i += 1) bytes[i] = Number.parseInt(signature.slice(i * 2, i * 2 + 2), 16)
  return bytes
}

/** HMAC-SHA256 of `message` (UTF-8 when a string) with `secret`, as lower-case hex. */
export const hmacSha256Hex = async (
  message: string | Uint8Array,
  secret: string,
): Promise<string> =>
  hexOf(await crypto.subtle.sign('HMAC', await hmacKey(secret, 'sign'), bytesOf(message)))

/** What `verifyHmacSha256Hex` checks: `signature` (hex) = HMAC-SHA256(message, secret). */
export type HmacCheck = {
  message: string | Uint8Array
  secret: string
  signature: string | null | undefined
}

/**
 * True when `signature` is the hex HMAC-SHA256 of `message` with `secret`. The comparison is
 * WebCrypto's `verify`, which is constant-time; an empty secret or a malformed signature is false.
 */
export const verifyHmacSha256Hex = async ({
  message,
  secret,
  signature,
}: HmacCheck): Promise<boolean> => {
  if (secret === '' || typeof signature !== 'string') return false
  const expected = signatureBytes(signature.trim())
  if (expected === null) return false
  return crypto.subtle.verify('HMAC', await hmacKey(secret, 'verify'), expected, bytesOf(message))
}

/** What Razorpay Checkout hands back after a payment of an order, plus the API key secret. */
export type PaymentSignatureCheck = {
  orderId: string
  paymentId: string
  signature: string | null | undefined
  keySecret: string
}

/** True when `signature` = HMAC_SHA256(order_id + "|" + payment_id, key_secret) (constant time). */
export const verifyPaymentSignature = ({
  orderId,
  paymentId,
  signature,
  keySecret,
}: PaymentSignatureCheck): Promise<boolean> =>
  verifyHmacSha256Hex({ message: `${orderId}|${paymentId}`, secret: keySecret, signature })

/** A webhook delivery: the raw body as received, its X-Razorpay-Signature, the webhook secret. */
export type WebhookSignatureCheck = {
  body: string | Uint8Array
  signature: string | null | undefined
  secret: string
}

/** True when `signature` = HMAC_SHA256(raw body, webhook secret), over the bytes received. */
export const verifyWebhookSignature = ({
  body,
  signature,
  secret,
}: WebhookSignatureCheck): Promise<boolean> =>
  verifyHmacSha256Hex({ message: body, secret, signature })
