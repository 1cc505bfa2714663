import { describe, expect, it } from 'vitest'
import {
  isNotificationKind,
  isPaymentKind,
  NOTIFICATION_KINDS,
  NotificationData,
  PAYMENT_KINDS,
  preferencesUrl,
  renderEmail,
} from '../../packages/notifications/src/index.ts'

const appUrl = 'https://app.example.test'
const prefs = 'https://app.example.test/settings/notifications'
const invoice = 'https://invoice.stripe.com/i/acct_1/test_YWNjdF8x'

// Realistic data for each kind, as the SQL that writes notifications will put it in `data`.
const samples: Record<(typeof NOTIFICATION_KINDS)[number], Record<string, unknown>> = {
  payment_succeeded: {
    plan_id: 'pro',
    plan_name: 'Pro',
    amount: 2900,
    currency: 'usd',
    hosted_invoice_url: invoice,
    period_end: '2027-01-05T00:00:00Z',
  },
  payment_failed: {
    plan_name: 'Pro',
    amount: 2900,
    currency: 'usd',
    hosted_invoice_url: invoice,
    next_attempt_at: '2026-12-08T00:00:00Z',
    grace_ends_at: '2026-12-12T00:00:00Z',
  },
  trial_ending: { plan_name: 'Pro', trial_end: '2026-12-08T10:00:00Z' },
  cancel_scheduled: { plan_name: 'Pro', ends_at: '2027-01-05T00:00:00Z' },
  subscription_ended: { plan_name: 'Pro', ended_at: '2026-12-05T00:00:00Z' },
  plan_changed: { plan_name: 'Enterprise', previous_plan_name: 'Pro' },
  renewal_upcoming: {
    plan_name: 'Pro yearly',
    renews_at: '2026-12-12T00:00:00Z',
    amount: 29000,
    currency: 'usd',
  },
  quota_warning: {
    metric: 'api_calls',
    used: 800,
    quota: 1000,
    period_end: '2027-01-01T00:00:00Z',
  },
  quota_exhausted: {
    metric: 'api_calls',
    used: 1000,
    quota: 1000,
    period_end: '2027-01-01T00:00:00Z',
  },
  purchase_succeeded: {
    product_name: 'API calls pack',
    amount: 1000,
    currency: 'usd',
    credits: 50000,
    metric: 'api_calls',
    credits_expire_at: '2027-12-05T00:00:00Z',
    hosted_invoice_url: invoice,
  },
  payment_refunded: {
    plan_name: 'Pro',
    amount: 1450,
    currency: 'usd',
    hosted_invoice_url: invoice,
  },
  dispute_opened: { plan_name: 'Pro', amount: 2900, currency: 'usd', reason: 'fraudulent' },
}

describe('the kinds', () => {
  it('are the twelve of CONTRACT.md, each with a data schema, payment kinds among them', () => {
    expect(NOTIFICATION_KINDS).toEqual([
      'payment_succeeded',
      'payment_failed',
      'trial_ending',
      'cancel_scheduled',
      'subscription_ended',
      'plan_changed',
      'renewal_upcoming',
      'quota_warning',
      'quota_exhausted',
      'purchase_succeeded',
      'payment_refunded',
      'dispute_opened',
    ])
    expect(Object.keys(NotificationData).sort()).toEqual([...NOTIFICATION_KINDS].sort())
    expect([...PAYMENT_KINDS].sort()).toEqual(
      [
        'dispute_opened',
        'payment_failed',
        'payment_refunded',
        'payment_succeeded',
        'purchase_succeeded',
      ],
    )
    expect(NOTIFICATION_KINDS.filter(isPaymentKind)).toEqual(
      NOTIFICATION_KINDS.filter((kind) => (PAYMENT_KINDS as readonly string[]).includes(kind)),
    )
    expect(isNotificationKind('payment_failed')).toBe(true)
    expect(isNotificationKind('welcome')).toBe(false)
  })
})

describe('renderEmail', () => {
  it.each(NOTIFICATION_KINDS.map((kind) => [kind]))(
    'writes %s as subject, text and HTML',
    (kind) => {
      const email = renderEmail(kind, samples[kind], { appUrl })
      expect(email.subject).not.toMatch(/[\r\n]/)
      expect(email.subject.length).toBeGreaterThan(5)
      expect(email.text.length).toBeGreaterThan(email.subject.length)
      expect(email.html).toMatch(/^<!doctype html>/)
      expect(email.html).toContain(`<title>${email.subject.replace(/&/g, '&amp;')}</title>`)
      expect(email.text).not.toMatch(/undefined|null|NaN|\[object/)
      expect(email.html).not.toMatch(/undefined|null|NaN|\[object/)
    },
  )

  it.each(NOTIFICATION_KINDS.filter((kind) => !isPaymentKind(kind)).map((kind) => [kind]))(
    'puts the preferences link in every %s email',
    (kind) => {
      const email = renderEmail(kind, samples[kind], { appUrl: `${appUrl}/` })
      expect(email.text).toContain(prefs)
      expect(email.html).toContain(`href="${prefs}"`)
    },
  )

  it.each(PAYMENT_KINDS.map((kind) => [kind]))(
    'says a %s email is always sent, without the link',
    (kind) => {
      const email = renderEmail(kind, samples[kind], { appUrl })
      expect(email.text).not.toContain(prefs)
      expect(email.text).toContain('always sent')
    },
  )

  it("writes the plan, the amount in the invoice's currency, dates and the invoice link", () => {
    const failed = renderEmail('payment_failed', samples.payment_failed, { appUrl })
    expect(failed.subject).toBe('Your payment of $29.00 for Pro failed')
    expect(failed.text).toContain('We will try again on December 8, 2026.')
    expect(failed.text).toContain('active until December 12, 2026')
    expect(failed.text).toContain(`Pay the invoice: ${invoice}`)
    expect(failed.html).toContain(`<a href="${invoice}"`)

    const yen = renderEmail('payment_succeeded', {
      plan_name: 'Pro',
      amount: 3000,
      currency: 'jpy',
    }, { appUrl })
    expect(yen.subject).toBe('Payment received: ¥3,000 for Pro')
    const dinar = renderEmail('payment_refunded', { amount: 1500, currency: 'KWD' }, { appUrl })
    expect(dinar.subject.replace(/\u00a0/g, ' ')).toBe('Refund of KWD 1.500')
  })

  it('writes the metric and its figures for quota emails', () => {
    const warning = renderEmail('quota_warning', samples.quota_warning, { appUrl })
    expect(warning.subject).toBe('You have used 80% of your api calls quota')
    expect(warning.text).toContain('You have used 800 of 1,000 api calls (80%) this period.')
    expect(warning.text).toContain('starts again on January 1, 2027')
    const exhausted = renderEmail('quota_exhausted', { metric: 'projects', quota: '20000' }, {
      appUrl,
    })
    expect(exhausted.text).toContain('all 20,000 projects')
  })

  it('formats amounts, counts and dates for the locale', () => {
    const email = renderEmail('purchase_succeeded', samples.purchase_succeeded, {
      appUrl,
      locale: 'de-DE',
    })
    expect(email.text.replace(/\u00a0/g, ' ')).toContain('10,00 $')
    expect(email.text).toContain('50.000 api calls credits')
    expect(email.text).toContain('5. Dezember 2027')
  })

  it('falls back to the plan id, then to plain words, when the plan name is missing', () => {
    expect(renderEmail('plan_changed', { plan_id: 'pro' }, { appUrl }).subject).toBe(
      'You are now on pro',
    )
    expect(renderEmail('plan_changed', {}, { appUrl }).text).toMatch(/^Your plan changed\.\n/)
    expect(renderEmail('subscription_ended', { plan_name: 'Pro' }, { appUrl }).subject).toBe(
      'Your Pro subscription has ended',
    )
    expect(renderEmail('subscription_ended', {}, { appUrl }).subject).toBe(
      'Your subscription has ended',
    )
    const trial = renderEmail('trial_ending', { trial_end: '2026-12-08T00:00:00Z' }, { appUrl })
    expect(trial.subject).toBe('Your trial ends on December 8, 2026')
    expect(trial.text).toMatch(/^Your free trial ends on December 8, 2026\./)
    expect(renderEmail('payment_succeeded', { amount: 100, currency: 'usd' }, { appUrl }).subject)
      .toBe('Payment received: $1.00 for your plan')
    for (const kind of ['cancel_scheduled', 'renewal_upcoming'] as const) {
      const { subject } = renderEmail(kind, {
        ends_at: '2027-01-05T00:00:00Z',
        renews_at: '2027-01-05T00:00:00Z',
      }, { appUrl })
      expect(subject).toMatch(/^Your subscription (ends|renews) on January 5, 2027$/)
    }
  })

  it('escapes every interpolated value in the HTML (an injection attempt stays text)', () => {
    const attack = `<script>alert("x")</script><img src=x onerror='alert(1)'>&`
    const email = renderEmail(
      'dispute_opened',
      { plan_name: attack, amount: 100, currency: 'usd', reason: `"><a href="https://evil.test">` },
      { appUrl },
    )
    expect(email.html).not.toContain('<script')
    expect(email.html).not.toContain('<img')
    expect(email.html).not.toContain('href="https://evil.test"')
    expect(email.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;')
    expect(email.html).toContain('onerror=&#39;alert(1)&#39;&gt;&amp;')
    // The text part is plain text: the value as it is.
    expect(email.text).toContain(attack)

    const trial = renderEmail('trial_ending', {
      plan_name: attack,
      trial_end: '2026-12-08T00:00:00Z',
    }, { appUrl })
    expect(trial.html).toContain(`<title>Your &lt;script&gt;`)
    expect(trial.html.match(/<script/g)).toBeNull()
  })

  it('drops a link that is not http(s) and escapes quotes in a link', () => {
    const bad = renderEmail(
      'payment_succeeded',
      { plan_name: 'Pro', amount: 100, currency: 'usd', hosted_invoice_url: 'javascript:alert(1)' },
      { appUrl },
    )
    expect(bad.html).not.toContain('javascript:')
    expect(bad.text).not.toContain('javascript:')
    const quoted = renderEmail(
      'payment_succeeded',
      {
        plan_name: 'Pro',
        amount: 100,
        currency: 'usd',
        hosted_invoice_url: 'https://x.test/?a="b"',
      },
      { appUrl },
    )
    expect(quoted.html).toContain('href="https://x.test/?a=%22b%22"')
  })

  it('throws on an unknown kind, on data the kind cannot be written from, and on a bad appUrl', () => {
    expect(() => renderEmail('welcome', {}, { appUrl })).toThrow(/unknown notification kind/)
    expect(() => renderEmail('payment_failed', { plan_name: 'Pro' }, { appUrl })).toThrow()
    expect(() => renderEmail('payment_failed', { amount: 1.5, currency: 'usd' }, { appUrl }))
      .toThrow()
    expect(() => renderEmail('quota_warning', { metric: 'api_calls', quota: 10 }, { appUrl }))
      .toThrow()
    expect(() => renderEmail('trial_ending', { trial_end: 'soon' }, { appUrl })).toThrow()
    expect(() => renderEmail('plan_changed', {}, { appUrl: 'app.example.test' })).toThrow(/appUrl/)
    expect(() => renderEmail('plan_changed', {}, { appUrl: 'javascript:alert(1)' })).toThrow(
      /appUrl/,
    )
  })

  it('builds the preferences URL from appUrl with or without a trailing slash', () => {
    expect(preferencesUrl('https://app.example.test/')).toBe(prefs)
    expect(preferencesUrl('https://app.example.test/base')).toBe(
      'https://app.example.test/base/settings/notifications',
    )
  })
})
