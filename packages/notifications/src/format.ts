// Formatting and escaping for email templates: money in minor units, dates, counts, HTML, links.

/** Minor-unit digits of an ISO 4217 currency as Intl knows them (JPY 0, USD 2, KWD 3). */
export const currencyDigits = (currency: string): number =>
  new Intl.NumberFormat('en', { style: 'currency', currency: currency.toUpperCase() })
    .resolvedOptions().maximumFractionDigits ?? 2

/**
 * Formats an amount in minor units (Stripe's and Razorpay's shape: 2900 usd is $29.00, 1000 jpy is
 * ¥1,000, 1234 kwd is KWD 1.234) without going through floating point.
 */
export const formatMoney = (
  amount: number | bigint | string,
  currency: string,
  locale = 'en-US',
): string => {
  const code = currency.toUpperCase()
  const digits = currencyDigits(code)
  const minor = BigInt(amount)
  const negative = minor < 0n
  const units = (negative ? -minor : minor).toString().padStart(digits + 1, '0')
  const decimal = digits === 0
    ? units
    : `${units.slice(0, units.length - digits)}.${units.slice(units.length - digits)}`
  const format = new Intl.NumberFormat(locale, {
    style: 'currency',
    currency: code,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  })
  // Intl formats a decimal string exactly (ECMA-402 NumberFormat v3; Node 20 and Deno do); the
  // ES2022 lib types do not list strings yet.
  return format.format(`${negative ? '-' : ''}${decimal}` as unknown as number)
}

/** A whole number with the locale's grouping (12,345). */
export const formatCount = (value: number | bigint | string, locale = 'en-US'): string =>
  new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(BigInt(value))

/** A date (ISO timestamp, e.g. a timestamptz from jsonb) as the locale writes it, in UTC. */
export const formatDate = (value: string, locale = 'en-US'): string =>
  new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(value))

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/** Escapes text for HTML content and quoted attribute values. */
export const escapeHtml = (value: string): string =>
  value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c)

/** The URL when it is absolute http(s), else null (no `javascript:` or relative links in email). */
export const safeUrl = (value: unknown): string | null => {
  if (typeof value !== 'string') return null
  try {
    const url = new URL(value)
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null
  } catch {
    return null
  }
}

/** One line for a subject: control characters (CR, LF, …) become spaces. */
export const oneLine = (value: string): string =>
  value.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim()
