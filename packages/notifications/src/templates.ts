import * as z from 'zod'
import { escapeHtml, formatCount, formatDate, formatMoney, oneLine, safeUrl } from './format.ts'
import { isNotificationKind, isPaymentKind, type NotificationKind } from './kinds.ts'

// Plain templates, no framework: each kind builds a subject, paragraphs of plain text and links;
// one renderer turns them into the text part and the HTML part, escaping every paragraph and link
// as a whole, so no interpolated value can reach the HTML unescaped.

/** A rendered email. */
export type RenderedEmail = { subject: string; text: string; html: string }

/** Where links point and how numbers and dates are written. */
export type RenderOptions = {
  /** The app's base URL (TOLLGATE_APP_URL): the preferences link is `${appUrl}/settings/notifications`. */
  appUrl: string
  /** BCP 47 locale for amounts, counts and dates (default en-US); the words are English. */
  locale?: string
}

const Amount = z.union([z.number().int(), z.string().regex(/^-?[0-9]+$/)])
const Currency = z.string().regex(/^[A-Za-z]{3}$/)
const When = z.string().refine((value) => !Number.isNaN(Date.parse(value)), 'an ISO timestamp')
const Count = z.union([z.number().int().nonnegative(), z.string().regex(/^[0-9]+$/)])
const Name = z.string().min(1)
const Url = z.string()

// What a notification's `data` carries (snake_case, as jsonb built in SQL); names are optional
// where a fallback reads well, amounts always come with their currency.
const PlanData = z.object({ plan_id: Name.optional(), plan_name: Name.optional() })
const Money = z.object({ amount: Amount, currency: Currency })

/** The `data` each kind needs (extra keys are ignored). */
export const NotificationData = {
  payment_succeeded: PlanData.extend(Money.shape).extend({
    hosted_invoice_url: Url.optional(),
    period_end: When.optional(),
  }),
  payment_failed: PlanData.extend(Money.shape).extend({
    hosted_invoice_url: Url.optional(),
    next_attempt_at: When.optional(),
    grace_ends_at: When.optional(),
  }),
  trial_ending: PlanData.extend({ trial_end: When }),
  cancel_scheduled: PlanData.extend({ ends_at: When }),
  subscription_ended: PlanData.extend({ ended_at: When.optional() }),
  plan_changed: PlanData.extend({
    previous_plan_id: Name.optional(),
    previous_plan_name: Name.optional(),
  }),
  renewal_upcoming: PlanData.extend({
    renews_at: When,
    amount: Amount.optional(),
    currency: Currency.optional(),
  }),
  quota_warning: z.object({
    metric: Name,
    used: Count,
    quota: Count,
    period_end: When.optional(),
  }),
  quota_exhausted: z.object({
    metric: Name,
    used: Count.optional(),
    quota: Count,
    period_end: When.optional(),
  }),
  purchase_succeeded: Money.extend({
    product_id: Name.optional(),
    product_name: Name.optional(),
    credits: Count.optional(),
    metric: Name.optional(),
    credits_expire_at: When.optional(),
    hosted_invoice_url: Url.optional(),
    receipt_url: Url.optional(),
  }),
  payment_refunded: PlanData.extend(Money.shape).extend({
    product_name: Name.optional(),
    hosted_invoice_url: Url.optional(),
  }),
  dispute_opened: PlanData.extend(Money.shape).extend({
    product_name: Name.optional(),
    reason: z.string().optional(),
  }),
} satisfies Record<NotificationKind, z.ZodType>

/** The `data` of one kind, as `renderEmail` reads it. */
export type NotificationDataOf<K extends NotificationKind> = z.infer<(typeof NotificationData)[K]>

type Link = { label: string; url: string | null }
type Draft = { subject: string; paragraphs: string[]; links: Link[] }
type Tools = {
  money: (amount: z.infer<typeof Amount>, currency: string) => string
  date: (value: string) => string
  count: (value: z.infer<typeof Count>) => string
  appUrl: string
}

const planOf = (data: { plan_name?: string; plan_id?: string }): string =>
  data.plan_name ?? data.plan_id ?? 'your plan'

// "your Pro subscription", or "your subscription" when the plan is not named.
const subscriptionOf = (data: { plan_name?: string; plan_id?: string }): string => {
  const name = data.plan_name ?? data.plan_id
  return name ? `your ${name} subscription` : 'your subscription'
}

const capital = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1)

// `api_calls` reads as "api calls".
const metricName = (metric: string): string => metric.replace(/[_-]+/g, ' ')

const invoiceLink = (url: string | undefined, label = 'View the invoice'): Link[] =>
  url === undefined ? [] : [{ label, url: safeUrl(url) }]

type Drafters = { [K in NotificationKind]: (data: NotificationDataOf<K>, t: Tools) => Draft }

const drafts: Drafters = {
  payment_succeeded: (d, t) => {
    const amount = t.money(d.amount, d.currency)
    return {
      subject: `Payment received: ${amount} for ${planOf(d)}`,
      paragraphs: [
        `Thank you: we received your payment of ${amount} for ${planOf(d)}.`,
        ...(d.period_end ? [`Your plan is paid until ${t.date(d.period_end)}.`] : []),
      ],
      links: invoiceLink(d.hosted_invoice_url),
    }
  },
  payment_failed: (d, t) => {
    const amount = t.money(d.amount, d.currency)
    return {
      subject: `Your payment of ${amount} for ${planOf(d)} failed`,
      paragraphs: [
        `We could not take your payment of ${amount} for ${planOf(d)}.`,
        ...(d.next_attempt_at ? [`We will try again on ${t.date(d.next_attempt_at)}.`] : []),
        d.grace_ends_at
          ? `Your plan stays active until ${
            t.date(d.grace_ends_at)
          }: please update your payment method before then.`
          : 'Please update your payment method to keep your plan.',
      ],
      links: invoiceLink(d.hosted_invoice_url, 'Pay the invoice'),
    }
  },
  trial_ending: (d, t) => ({
    subject: `Your ${d.plan_name ?? d.plan_id ?? ''}${d.plan_name || d.plan_id ? ' ' : ''}trial ends on ${t.date(d.trial_end)}`,
    paragraphs: [
      `Your free trial${d.plan_name || d.plan_id ? ` of ${planOf(d)}` : ''} ends on ${
        t.date(d.trial_end)
      }.`,
      'To keep using it without a break, make sure a payment method is on file before then.',
    ],
    links: [{ label: 'Open your account', url: t.appUrl }],
  }),
  cancel_scheduled: (d, t) => ({
    subject: `${capital(subscriptionOf(d))} ends on ${t.date(d.ends_at)}`,
    paragraphs: [
      `${capital(subscriptionOf(d))} is cancelled: you keep it until ${
        t.date(d.ends_at)
      }, and it will not renew.`,
      'Changed your mind? You can resume it any time before then.',
    ],
    links: [{ label: 'Open your account', url: t.appUrl }],
  }),
  subscription_ended: (d, t) => ({
    subject: `${capital(subscriptionOf(d))} has ended`,
    paragraphs: [
      d.ended_at
        ? `${capital(subscriptionOf(d))} ended on ${t.date(d.ended_at)}.`
        : `${capital(subscriptionOf(d))} has ended.`,
      'You can subscribe again at any time.',
    ],
    links: [{ label: 'Open your account', url: t.appUrl }],
  }),
  plan_changed: (d) => {
    const previous = d.previous_plan_name ?? d.previous_plan_id
    return {
      subject: d.plan_name || d.plan_id ? `You are now on ${planOf(d)}` : 'Your plan changed',
      paragraphs: [
        previous && (d.plan_name || d.plan_id)
          ? `Your plan changed from ${previous} to ${planOf(d)}.`
          : d.plan_name || d.plan_id
          ? `Your plan is now ${planOf(d)}.`
          : 'Your plan changed.',
      ],
      links: [],
    }
  },
  renewal_upcoming: (d, t) => {
    const price = d.amount !== undefined && d.currency !== undefined
      ? ` for ${t.money(d.amount, d.currency)}`
      : ''
    return {
      subject: `${capital(subscriptionOf(d))} renews on ${t.date(d.renews_at)}`,
      paragraphs: [
        `${capital(subscriptionOf(d))} renews on ${t.date(d.renews_at)}${price}.`,
        'There is nothing to do if you want to keep it.',
      ],
      links: [{ label: 'Open your account', url: t.appUrl }],
    }
  },
  quota_warning: (d, t) => {
    const metric = metricName(d.metric)
    const quota = BigInt(d.quota)
    const percent = quota > 0n ? (BigInt(d.used) * 100n) / quota : 100n
    return {
      subject: `You have used ${percent}% of your ${metric} quota`,
      paragraphs: [
        `You have used ${t.count(d.used)} of ${
          t.count(d.quota)
        } ${metric} (${percent}%) this period.`,
        ...(d.period_end ? [`Your quota starts again on ${t.date(d.period_end)}.`] : []),
        'If you need more, a higher plan has a larger quota.',
      ],
      links: [{ label: 'Open your account', url: t.appUrl }],
    }
  },
  quota_exhausted: (d, t) => {
    const metric = metricName(d.metric)
    return {
      subject: `You have reached your ${metric} quota`,
      paragraphs: [
        `You have used all ${t.count(d.quota)} ${metric} your plan includes this period.`,
        ...(d.period_end ? [`Your quota starts again on ${t.date(d.period_end)}.`] : []),
        'If you need more now, a higher plan has a larger quota.',
      ],
      links: [{ label: 'Open your account', url: t.appUrl }],
    }
  },
  purchase_succeeded: (d, t) => {
    const amount = t.money(d.amount, d.currency)
    const product = d.product_name ?? d.product_id ?? 'your purchase'
    const credits = d.credits !== undefined
      ? [
        `${t.count(d.credits)}${
          d.metric ? ` ${metricName(d.metric)}` : ''
        } credits were added to your account${
          d.credits_expire_at ? `, valid until ${t.date(d.credits_expire_at)}` : ''
        }.`,
      ]
      : []
    return {
      subject: `Thank you for your purchase: ${product}`,
      paragraphs: [`We received your payment of ${amount} for ${product}.`, ...credits],
      links: invoiceLink(d.hosted_invoice_url ?? d.receipt_url, 'View the receipt'),
    }
  },
  payment_refunded: (d, t) => {
    const amount = t.money(d.amount, d.currency)
    const item = d.product_name ?? d.plan_name ?? d.plan_id
    return {
      subject: `Refund of ${amount}`,
      paragraphs: [
        `We refunded ${amount}${item ? ` for ${item}` : ''}.`,
        'Depending on your bank, it can take a few days to show on your statement.',
      ],
      links: invoiceLink(d.hosted_invoice_url),
    }
  },
  dispute_opened: (d, t) => {
    const amount = t.money(d.amount, d.currency)
    const item = d.product_name ?? d.plan_name ?? d.plan_id
    return {
      subject: `Your payment of ${amount} is disputed`,
      paragraphs: [
        `Your bank told us that you disputed a payment of ${amount}${item ? ` for ${item}` : ''}${
          d.reason ? ` (reason: ${d.reason})` : ''
        }.`,
        'If this was not you or was a mistake, please contact us or your bank.',
      ],
      links: [],
    }
  },
}

const baseUrlOf = (appUrl: string): string => {
  const url = safeUrl(appUrl)
  if (url === null) {
    throw new Error(`appUrl must be an absolute http(s) URL, got ${JSON.stringify(appUrl)}`)
  }
  return url.replace(/\/+$/, '')
}

/** The page where a user chooses which emails they get. */
export const preferencesUrl = (appUrl: string): string =>
  `${baseUrlOf(appUrl)}/settings/notifications`

/**
 * Renders the email of one notification: subject, text and HTML, with amounts in the currency's
 * own minor units, dates, links, and (for every kind but payment kinds) the preferences link.
 * Throws on an unknown kind or data the kind cannot be written from.
 */
export const renderEmail = (
  kind: string,
  data: unknown,
  options: RenderOptions,
): RenderedEmail => {
  if (!isNotificationKind(kind)) {
    throw new Error(`unknown notification kind: ${JSON.stringify(kind)}`)
  }
  const locale = options.locale ?? 'en-US'
  const appUrl = baseUrlOf(options.appUrl)
  const tools: Tools = {
    money: (amount, currency) => formatMoney(amount, currency, locale),
    date: (value) => formatDate(value, locale),
    count: (value) => formatCount(value, locale),
    appUrl,
  }
  const parsed = NotificationData[kind].parse(data ?? {})
  const draft = (drafts[kind] as (data: unknown, t: Tools) => Draft)(parsed, tools)
  const links = draft.links.filter((link): link is { label: string; url: string } =>
    link.url !== null
  )
  const footer: { note: string; link?: { label: string; url: string } } = isPaymentKind(kind)
    ? { note: 'This email is about a payment on your account, so it is always sent.' }
    : {
      note: 'You get this email because of your notification settings.',
      link: { label: 'Choose which emails you get', url: preferencesUrl(appUrl) },
    }

  const subject = oneLine(draft.subject)
  const text = [
    ...draft.paragraphs,
    ...links.map((link) => `${link.label}: ${link.url}`),
    '--',
    footer.link ? `${footer.note}\n${footer.link.label}: ${footer.link.url}` : footer.note,
  ].join('\n\n') + '\n'
  const anchor = (link: { label: string; url: string }, style: string): string =>
    `<a href="${escapeHtml(link.url)}" style="${style}">${escapeHtml(link.label)}</a>`
  const html = [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${
      escapeHtml(subject)
    }</title></head>`,
    '<body style="margin:0;padding:24px;background:#f6f6f6;font-family:-apple-system,BlinkMacSystemFont,\'Segoe UI\',Helvetica,Arial,sans-serif;color:#111;line-height:1.5">',
    '<div style="max-width:560px;margin:0 auto;background:#fff;padding:24px;border-radius:8px">',
    ...draft.paragraphs.map((paragraph) =>
      `<p style="margin:0 0 16px">${escapeHtml(paragraph)}</p>`
    ),
    ...links.map((link) => `<p style="margin:0 0 16px">${anchor(link, 'color:#0b57d0')}</p>`),
    '</div>',
    `<p style="max-width:560px;margin:16px auto 0;font-size:12px;color:#666">${
      escapeHtml(footer.note)
    }${footer.link ? ` ${anchor(footer.link, 'color:#666')}` : ''}</p>`,
    '</body></html>',
  ].join('\n') + '\n'
  return { subject, text, html }
}
