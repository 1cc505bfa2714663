import { readFileSync } from 'node:fs'
import Stripe from 'stripe'
import { describe, expect, it } from 'vitest'
import { cachedSubtleCryptoProvider, type Subtle } from './crypto.ts'

type Vector = { secret: string; timestamp: number; raw_body: string; expected_v1_hex: string }

const vector = JSON.parse(
  readFileSync(new URL('../fixtures/webhook-signature-vector.json', import.meta.url), 'utf8'),
) as Vector

const stock = Stripe.createSubtleCryptoProvider()

/** crypto.subtle, counting the keys it imports; `failImports` makes the first imports fail. */
const countingSubtle = (failImports = 0) => {
  const calls = { imports: 0, signs: 0 }
  let failures = failImports
  const subtle: Subtle = {
    importKey: ((...args: Parameters<Subtle['importKey']>) => {
      calls.imports++
      if (failures > 0) {
        failures--
        return Promise.reject(new Error('import failed'))
      }
      return crypto.subtle.importKey(...args)
    }) as Subtle['importKey'],
    sign: (...args) => {
      calls.signs++
      return crypto.subtle.sign(...args)
    },
    digest: (...args) => crypto.subtle.digest(...args),
  }
  return { subtle, calls }
}

describe('the cached SubtleCrypto provider', () => {
  it("computes the same HMACs as the SDK's own SubtleCrypto provider", async () => {
    const provider = cachedSubtleCryptoProvider()
    // The sample values of the SDK's CryptoProvider contract.
    expect(await provider.computeHMACSignatureAsync('', 'test_secret')).toBe(
      'f7f9bd47fb987337b5796fdc1fdb9ba221d0d5396814bfcaf9521f43fd8927fd',
    )
    expect(await provider.computeHMACSignatureAsync('\ud83d\ude00', 'test_secret')).toBe(
      '837da296d05c4fe31f61d5d7ead035099d9585a5bcde87de952012a78f0b0c43',
    )
    const content = `${vector.timestamp}.${vector.raw_body}`
    expect(await provider.computeHMACSignatureAsync(content, vector.secret)).toBe(
      vector.expected_v1_hex,
    )
    for (const [payload, secret] of [
      ['a', 'whsec_a'],
      ['b'.repeat(7000), 'whsec_b'],
      [content, 'whsec_a'],
    ] as const) {
      expect(await provider.computeHMACSignatureAsync(payload, secret)).toBe(
        await stock.computeHMACSignatureAsync(payload, secret),
      )
    }
    const data = new TextEncoder().encode('hash me')
    expect(await provider.computeSHA256Async(data)).toEqual(await stock.computeSHA256Async(data))
  })

  it('imports the key of a secret once and of each other secret on its own', async () => {
    const { subtle, calls } = countingSubtle()
    const provider = cachedSubtleCryptoProvider(subtle)
    const first = await provider.computeHMACSignatureAsync('payload', 'whsec_one')
    await provider.computeHMACSignatureAsync('payload', 'whsec_one')
    await Promise.all([
      provider.computeHMACSignatureAsync('other payload', 'whsec_one'),
      provider.computeHMACSignatureAsync('payload', 'whsec_one'),
    ])
    expect(calls).toEqual({ imports: 1, signs: 4 })

    // Another secret gets its own key, never the cached one.
    const second = await provider.computeHMACSignatureAsync('payload', 'whsec_two')
    expect(calls.imports).toBe(2)
    expect(second).not.toBe(first)
    expect(second).toBe(await stock.computeHMACSignatureAsync('payload', 'whsec_two'))
    expect(await provider.computeHMACSignatureAsync('payload', 'whsec_one')).toBe(first)
    expect(calls.imports).toBe(2)
  })

  it('keeps no key whose import failed', async () => {
    const { subtle, calls } = countingSubtle(1)
    const provider = cachedSubtleCryptoProvider(subtle)
    await expect(provider.computeHMACSignatureAsync('payload', 'whsec_one')).rejects.toThrow(
      'import failed',
    )
    expect(await provider.computeHMACSignatureAsync('payload', 'whsec_one')).toBe(
      await stock.computeHMACSignatureAsync('payload', 'whsec_one'),
    )
    expect(calls.imports).toBe(2)
  })

  it('keeps only a few secrets and still signs right with the ones it dropped', async () => {
    const { subtle, calls } = countingSubtle()
    const provider = cachedSubtleCryptoProvider(subtle)
    for (let round = 0; round < 2; round++) {
      for (let n = 0; n < 20; n++) {
        expect(await provider.computeHMACSignatureAsync('p', `whsec_${n}`)).toBe(
          await stock.computeHMACSignatureAsync('p', `whsec_${n}`),
        )
      }
    }
    expect(calls.imports).toBe(40)
  })

  it('refuses synchronous use as the SDK provider does', () => {
    const provider = cachedSubtleCryptoProvider()
    expect(() => provider.computeHMACSignature('payload', 'whsec_one')).toThrow(
      /synchronous/,
    )
  })
})
