import Stripe from 'stripe'

/** The Web Crypto calls the provider makes (the runtime's `crypto.subtle` by default). */
export type Subtle = Pick<typeof globalThis.crypto.subtle, 'importKey' | 'sign' | 'digest'>

type HmacKey = Awaited<ReturnType<Subtle['importKey']>>

// Webhook secrets whose imported keys are kept: a deployment has one, two while rotating.
const MAX_KEYS = 8

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'))

/**
 * A Stripe SDK CryptoProvider on SubtleCrypto (Deno and Node alike) that imports each secret's
 * HMAC key once, where the SDK's own SubtleCryptoProvider imports it on every event.
 */
export const cachedSubtleCryptoProvider = (
  subtle: Subtle = globalThis.crypto.subtle,
): Stripe.CryptoProvider => {
  const base = Stripe.createSubtleCryptoProvider(subtle as typeof globalThis.crypto.subtle)
  const encoder = new TextEncoder()
  // Keyed by the secret itself: a key is only ever used for the exact secret it was imported from.
  const keys = new Map<string, Promise<HmacKey>>()

  const keyFor = (secret: string): Promise<HmacKey> => {
    const cached = keys.get(secret)
    if (cached !== undefined) return cached
    const imported = subtle.importKey(
      'raw',
      encoder.encode(secret),
      { name: 'HMAC', hash: { name: 'SHA-256' } },
      false,
      ['sign'],
    )
    // A failed import is not kept: the next event tries again.
    imported.catch(() => {
      if (keys.get(secret) === imported) keys.delete(secret)
    })
    if (keys.size >= MAX_KEYS) {
      const oldest = keys.keys().next()
      if (oldest.done !== true) keys.delete(oldest.value)
    }
    keys.set(secret, imported)
    return imported
  }

  // Hashing and the synchronous call (which throws: SubtleCrypto is async only) stay the SDK's.
  return {
    computeHMACSignature: (payload, secret) => base.computeHMACSignature(payload, secret),
    computeHMACSignatureAsync: async (payload, secret) => {
      const signature = new Uint8Array(
        await subtle.sign('HMAC', await keyFor(secret), encoder.encode(payload)),
      )
      let hex = ''
      for (const byte of signature) hex += HEX[byte]
      return hex
    },
    computeSHA256Async: (data) => base.computeSHA256Async(data),
  }
}
