import { describe, expect, it } from 'vitest'
import {
  currencyDigits,
  escapeHtml,
  formatCount,
  formatDate,
  formatMoney,
  oneLine,
  safeUrl,
} from '../../packages/notifications/src/index.ts'

describe('formatMoney', () => {
  it("knows each currency's minor-unit digits: JPY 0, USD 2, KWD 3", () => {
    expect([currencyDigits('jpy'), currencyDigits('usd'), currencyDigits('KWD')]).toEqual([0, 2, 3])
  })

  it.each([
    [1000, 'jpy', '¥1,000'],
    [2900, 'usd', '$29.00'],
    [5, 'usd', '$0.05'],
    [1234, 'kwd', 'KWD 1.234'],
    [1, 'kwd', 'KWD 0.001'],
    [-150, 'eur', '-€1.50'],
    [0, 'inr', '₹0.00'],
  ])('writes %s %s as %s', (amount, currency, expected) => {
    expect(formatMoney(amount, currency).replace(/\u00a0/g, ' ')).toBe(expected)
  })

  it('is exact past 2^53 and for amounts given as integer strings (jsonb bigint)', () => {
    expect(formatMoney('900719925474099312', 'usd')).toBe('$9,007,199,254,740,993.12')
    expect(formatMoney(2n ** 60n, 'jpy')).toBe('¥1,152,921,504,606,846,976')
  })

  it('follows the locale', () => {
    expect(formatMoney(123456, 'eur', 'de-DE').replace(/\u00a0/g, ' ')).toBe('1.234,56 €')
    expect(formatMoney(1000, 'jpy', 'ja-JP')).toMatch(/^[¥￥]1,000$/)
  })

  it('refuses an amount that is not whole minor units', () => {
    expect(() => formatMoney(12.5, 'usd')).toThrow()
    expect(() => formatMoney('12.50', 'usd')).toThrow()
  })
})

describe('formatting helpers', () => {
  it('writes counts and UTC dates', () => {
    expect(formatCount(1234567)).toBe('1,234,567')
    expect(formatDate('2026-12-31T23:30:00-05:00')).toBe('January 1, 2027')
  })

  it('escapes the five HTML characters', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    )
  })

  it('keeps only absolute http(s) URLs', () => {
    expect(safeUrl('https://invoice.stripe.com/i/acct_1/test_x')).toBe(
      'https://invoice.stripe.com/i/acct_1/test_x',
    )
    for (const bad of ['javascript:alert(1)', 'data:text/html,x', '/relative', 'not a url', 42]) {
      expect(safeUrl(bad)).toBeNull()
    }
  })

  it('makes a subject one line', () => {
    expect(oneLine('Pro\r\nBcc: someone@evil.test')).toBe('Pro Bcc: someone@evil.test')
  })
})
