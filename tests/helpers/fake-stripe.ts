import { type Context, Hono } from 'hono'
import {
  type EventOptions,
  makeStripeEvent,
  readStripeFixture,
  type SignedDelivery,
  signedDelivery,
  stripeId,
  type StripeJson,
} from './stripe/events.ts'
import { type FormData, type FormValue, parseStripeForm } from './stripe/form.ts'
import { serveFetch } from './stripe/node-server.ts'

/** A price the fake knows (Stripe would 400 on any other). */
export type FakePrice = {
  unit_amount: number
  currency: string
  /** The billing interval of a recurring price; null for a one-time price. */
  interval: 'month' | 'year' | null
  product?: string
  /** False once archived (POST /v1/prices/:id active=false); default true. */
  active?: boolean
  /** The price's lookup key, unique among the account's prices. */
  lookup_key?: string | null
  metadata?: StripeJson
  nickname?: string | null
  created?: number
}

/** One API call the fake received, after parsing. */
export type RecordedRequest = {
  method: string
  path: string
  /** Form body (POST) or query string (GET, DELETE), in Stripe's bracket notation. */
  params: FormData
  idempotencyKey: string | null
  stripeVersion: string | null
  status: number
  /** True when the answer was the stored answer of an earlier request with the same key. */
  replayed: boolean
}

/** What a Checkout Session was created with (Stripe only shows part of it on the session). */
export type CheckoutRecord = {
  lineItems: { price: string; quantity: number }[]
  subscriptionData: FormData
  /** payment_intent_data (payment mode, when given): its metadata goes on the PaymentIntent. */
  paymentIntentData?: FormData
  discounts: FormData[]
}

/** Everything the fake holds; tests may read and change it. */
export type FakeStripeState = {
  prices: Map<string, FakePrice>
  /** Products by id (POST /v1/products, ids chosen by the caller or prod_...). */
  products: Map<string, StripeJson>
  customers: Map<string, StripeJson>
  checkoutSessions: Map<string, StripeJson>
  checkouts: Map<string, CheckoutRecord>
  /** PaymentIntents of payment-mode Checkout Sessions, made when the customer pays. */
  paymentIntents: Map<string, StripeJson>
  subscriptions: Map<string, StripeJson>
  invoices: Map<string, StripeJson>
  coupons: Map<string, StripeJson>
  portalSessions: Map<string, StripeJson>
  /** Payments that can be refunded (`addPayment`), by payment intent. */
  payments: Map<string, FakePayment>
  /** Refunds (POST /v1/refunds), by id. */
  refunds: Map<string, StripeJson>
  requests: RecordedRequest[]
  idempotency: Map<string, { fingerprint: string; status: number; body: StripeJson }>
}

/** A succeeded payment intent with its one charge, as `addPayment` made it. */
export type FakePayment = {
  paymentIntent: string
  charge: string
  amount: number
  currency: string
  amountRefunded: number
}

/** An error the fake answers with instead of handling a request. */
export type InjectedFailure = {
  status: number
  type?: string
  code?: string
  message?: string
}

/** Options of `createFakeStripe`. */
export type FakeStripeOptions = {
  /**
   * Prices besides the seeded ones (price_pro_monthly 2900 usd, price_enterprise_monthly 9900 usd,
   * price_api_calls_pack 1000 usd one-time).
   */
  prices?: Record<string, FakePrice>
  /** The fake's clock in Unix seconds (default: the real one). */
  now?: () => number
}

/** What `completePaymentCheckout` and `succeedAsyncPurchase` changed. */
export type PaymentOutcome = { session: StripeJson; paymentIntent: StripeJson }

/** What `completeCheckout` and friends changed. */
export type CheckoutOutcome = { session: StripeJson; subscription: StripeJson; invoice: StripeJson }

/** An in-memory Stripe API on a local port. */
export type FakeStripe = {
  /** Base URL for STRIPE_API_BASE. */
  url: string
  /** The Hono app, for socketless use (`Stripe.createFetchHttpClient((u, i) => app.request(u, i))`). */
  app: Hono
  state: FakeStripeState
  /** The events Stripe would have sent for what happened so far, oldest first. */
  events: StripeJson[]
  /** A snapshot event around `object` (not added to `events`). */
  makeEvent: (type: string, object: StripeJson, options?: EventOptions) => StripeJson
  /** Signs an event (or exact body) with the endpoint secret as Stripe delivers it. */
  signedDelivery: (
    event: StripeJson | string,
    secret: string,
    options?: { timestamp?: number },
  ) => Promise<SignedDelivery>
  /** The customer pays: session complete and paid, subscription (active) and first invoice created. */
  completeCheckout: (
    sessionId: string,
    options?: { paymentStatus?: 'paid' | 'unpaid' | 'no_payment_required' },
  ) => CheckoutOutcome
  /** A delayed payment method (e.g. SEPA) succeeded after an unpaid completion. */
  succeedAsyncPayment: (sessionId: string) => CheckoutOutcome
  /**
   * The customer pays a payment-mode session: a PaymentIntent (succeeded, or processing when
   * unpaid: an async method) and checkout.session.completed.
   */
  completePaymentCheckout: (
    sessionId: string,
    options?: { paymentStatus?: 'paid' | 'unpaid' },
  ) => PaymentOutcome
  /** The delayed payment of a payment-mode session succeeded. */
  succeedAsyncPurchase: (sessionId: string) => PaymentOutcome
  /** A delayed payment method failed after an unpaid completion. */
  failAsyncPayment: (sessionId: string) => StripeJson
  /** The session expired unpaid. */
  expireCheckout: (sessionId: string) => StripeJson
  /** The next period starts: a paid renewal, or a failed one (past_due, open invoice). */
  renewSubscription: (
    subscriptionId: string,
    options?: { paid?: boolean },
  ) => { subscription: StripeJson; invoice: StripeJson }
  /** A payment that succeeded (a purchase or an invoice paid), so it can be refunded. */
  addPayment: (options: { amount: number; currency?: string }) => FakePayment
  /** Answers the next `times` requests matching method and path with an error. */
  fail: (method: string, path: string | RegExp, failure: InjectedFailure, times?: number) => void
  /**
   * Rewrites the next successful answer to method and path (what Stripe would send when, say, an
   * update is left pending); the change itself still happens in the fake's state.
   */
  rewriteNext: (method: string, path: string | RegExp, rewrite: (body: StripeJson) => StripeJson) => void
  /** The recorded requests with this method whose path matches. */
  requestsTo: (method: string, path: string | RegExp) => RecordedRequest[]
  close: () => Promise<void>
}

/** The fake's answer to a request it refuses, in Stripe's error shape. */
export class FakeStripeError extends Error {
  readonly status: number
  readonly body: StripeJson

  constructor(status: number, body: StripeJson) {
    super(String((body.error as { message?: unknown } | undefined)?.message ?? 'error'))
    this.status = status
    this.body = body
  }
}

const invalid = (message: string, extra: { code?: string; param?: string } = {}): FakeStripeError =>
  new FakeStripeError(400, { error: { type: 'invalid_request_error', message, ...extra } })

const noSuch = (kind: string, id: string, param = 'id'): FakeStripeError =>
  new FakeStripeError(404, {
    error: {
      type: 'invalid_request_error',
      code: 'resource_missing',
      message: `No such ${kind}: '${id}'`,
      param,
      doc_url: 'https://stripe.com/docs/error-codes/resource-missing',
    },
  })

const DEFAULT_PRICES: Record<string, FakePrice> = {
  price_pro_monthly: { unit_amount: 2900, currency: 'usd', interval: 'month', product: 'prod_pro' },
  price_enterprise_monthly: {
    unit_amount: 9900,
    currency: 'usd',
    interval: 'month',
    product: 'prod_enterprise',
  },
  // The seeded product's one-time price (supabase/seed.sql).
  price_api_calls_pack: {
    unit_amount: 1000,
    currency: 'usd',
    interval: null,
    product: 'prod_api_calls_pack',
  },
}

const text = (value: FormValue | undefined): string | undefined =>
  typeof value === 'string' ? value : undefined

const map = (value: FormValue | undefined): FormData =>
  value !== undefined && typeof value === 'object' && !Array.isArray(value) ? value : {}

const list = (value: FormValue | undefined): FormValue[] => {
  if (Array.isArray(value)) return value.filter((item) => item !== undefined)
  // `items[0]…` arrives as a list; `items[a]…` (non-numeric) as a map: take its values.
  if (value !== undefined && typeof value === 'object') return Object.values(value)
  return []
}

// Stripe's metadata: text values; '' unsets a key.
const metadataOf = (value: FormValue | undefined, base: StripeJson = {}): StripeJson => {
  if (value === '') return {}
  const next: StripeJson = { ...base }
  for (const [key, item] of Object.entries(map(value))) {
    if (typeof item !== 'string') throw invalid('Invalid metadata', { param: `metadata[${key}]` })
    if (item === '') delete next[key]
    else next[key] = item
  }
  return next
}

const bool = (value: FormValue | undefined, param: string): boolean | undefined => {
  if (value === undefined) return undefined
  if (value === 'true') return true
  if (value === 'false') return false
  throw invalid(`Invalid boolean: ${String(value)}`, { param })
}

const integer = (value: FormValue | undefined, param: string): number | undefined => {
  if (value === undefined || value === '') return undefined
  if (typeof value !== 'string' || !/^-?[0-9]+(\.[0-9]+)?$/.test(value)) {
    throw invalid(`Invalid number: ${String(value)}`, { param })
  }
  return Number(value)
}

const addInterval = (at: number, interval: 'month' | 'year'): number => {
  const date = new Date(at * 1000)
  if (interval === 'year') date.setUTCFullYear(date.getUTCFullYear() + 1)
  else date.setUTCMonth(date.getUTCMonth() + 1)
  return Math.floor(date.getTime() / 1000)
}

const randomToken = (): string => stripeId('x').slice(2)

type Variables = { params: FormData }

/** Starts an in-memory fake of the Stripe API on 127.0.0.1:<random port>. */
export const createFakeStripe = async (options: FakeStripeOptions = {}): Promise<FakeStripe> => {
  const now = options.now ?? (() => Math.floor(Date.now() / 1000))
  const state: FakeStripeState = {
    prices: new Map(Object.entries({ ...DEFAULT_PRICES, ...options.prices })),
    products: new Map(),
    customers: new Map(),
    checkoutSessions: new Map(),
    checkouts: new Map(),
    paymentIntents: new Map(),
    subscriptions: new Map(),
    invoices: new Map(),
    coupons: new Map(),
    portalSessions: new Map(),
    payments: new Map(),
    refunds: new Map(),
    requests: [],
    idempotency: new Map(),
  }
  const events: StripeJson[] = []
  const rewrites: {
    method: string
    path: string | RegExp
    rewrite: (body: StripeJson) => StripeJson
  }[] = []
  const failures: {
    method: string
    path: string | RegExp
    failure: InjectedFailure
    times: number
  }[] = []
  let invoiceNumber = 0

  const emit = (type: string, object: StripeJson, previousAttributes?: StripeJson): void => {
    events.push(
      makeStripeEvent(type, object, {
        created: now(),
        ...(previousAttributes ? { previousAttributes } : {}),
      }),
    )
  }

  // --- objects, shaped like the official fixtures --------------------------------------------

  const priceObject = (id: string, param = 'price'): StripeJson => {
    const price = state.prices.get(id)
    if (!price) throw noSuch('price', id, param)
    const template = readStripeFixture('derived/subscription.active.json').items.data[0].price
    return {
      ...template,
      id,
      currency: price.currency,
      unit_amount: price.unit_amount,
      unit_amount_decimal: String(price.unit_amount),
      product: price.product ?? `prod_${id}`,
      created: price.created ?? now(),
      active: price.active ?? true,
      lookup_key: price.lookup_key ?? null,
      metadata: price.metadata ?? {},
      nickname: price.nickname ?? null,
      transform_quantity: null,
      custom_unit_amount: null,
      ...(price.interval === null
        ? { type: 'one_time', recurring: null }
        : { recurring: { ...template.recurring, interval: price.interval, interval_count: 1 } }),
    }
  }

  // The legacy `plan` Stripe still puts on subscription items, matching the price.
  const planObject = (price: StripeJson): StripeJson => ({
    id: price.id,
    object: 'plan',
    active: true,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: 'per_unit',
    created: price.created,
    currency: price.currency,
    interval: price.recurring.interval,
    interval_count: 1,
    livemode: false,
    metadata: {},
    meter: null,
    nickname: null,
    product: price.product,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: 'licensed',
  })

  const itemObject = (
    subscriptionId: string,
    priceId: string,
    quantity: number,
    start: number,
    param: string,
  ): StripeJson => {
    const template = readStripeFixture('derived/subscription.active.json').items.data[0]
    const price = priceObject(priceId, param)
    return {
      ...template,
      id: stripeId('si'),
      created: start,
      metadata: {},
      price,
      plan: planObject(price),
      quantity,
      subscription: subscriptionId,
      current_period_start: start,
      current_period_end: addInterval(start, price.recurring.interval),
    }
  }

  const amountOf = (
    items: { price: string; quantity: number }[],
    discounts: FormData[],
  ): number => {
    let total = items.reduce(
      (sum, item) => sum + (state.prices.get(item.price)?.unit_amount ?? 0) * item.quantity,
      0,
    )
    for (const discount of discounts) {
      const coupon = state.coupons.get(text(discount.coupon) ?? '')
      if (!coupon) continue
      if (typeof coupon.percent_off === 'number') {
        total -= Math.round((total * coupon.percent_off) / 100)
      }
      if (typeof coupon.amount_off === 'number') total -= coupon.amount_off
    }
    return Math.max(total, 0)
  }

  const customerObject = (params: FormData): StripeJson => {
    const template = readStripeFixture('customer.json')
    const customer = {
      ...template,
      id: stripeId('cus'),
      created: now(),
      email: text(params.email) ?? null,
      name: text(params.name) ?? null,
      description: text(params.description) ?? null,
      metadata: metadataOf(params.metadata),
      livemode: false,
    }
    state.customers.set(customer.id, customer)
    emit('customer.created', customer)
    return customer
  }

  const invoiceFor = (
    subscription: StripeJson,
    status: 'paid' | 'open',
    billingReason: string,
    amount: number,
  ): StripeJson => {
    const invoice = readStripeFixture('derived/invoice.paid.subscription_create.json')
    const at = now()
    const id = stripeId('in')
    const item = subscription.items.data[0]
    invoiceNumber += 1
    Object.assign(invoice, {
      id,
      customer: subscription.customer,
      status,
      billing_reason: billingReason,
      currency: item.price.currency,
      amount_due: amount,
      amount_paid: status === 'paid' ? amount : 0,
      amount_remaining: status === 'paid' ? 0 : amount,
      subtotal: amount,
      subtotal_excluding_tax: amount,
      total: amount,
      total_excluding_tax: amount,
      created: at,
      effective_at: at,
      period_start: at,
      period_end: at,
      number: `FAKE-${String(invoiceNumber).padStart(4, '0')}`,
      hosted_invoice_url: `https://invoice.stripe.com/i/acct_fake/${id}`,
      invoice_pdf: `https://pay.stripe.com/invoice/acct_fake/${id}/pdf`,
      attempted: true,
      attempt_count: 1,
      next_payment_attempt: status === 'paid' ? null : at + 3 * 24 * 3600,
      status_transitions: {
        finalized_at: at,
        marked_uncollectible_at: null,
        paid_at: status === 'paid' ? at : null,
        voided_at: null,
      },
      parent: {
        quote_details: null,
        subscription_details: { metadata: subscription.metadata, subscription: subscription.id },
        type: 'subscription_details',
      },
      webhooks_delivered_at: null,
    })
    const line = invoice.lines.data[0]
    Object.assign(line, {
      id: stripeId('il'),
      invoice: id,
      amount,
      subtotal: amount,
      currency: item.price.currency,
      description: `${item.quantity} × ${item.price.product}`,
      period: { start: item.current_period_start, end: item.current_period_end },
      quantity: item.quantity,
      subscription: subscription.id,
    })
    line.parent.subscription_item_details.subscription = subscription.id
    line.parent.subscription_item_details.subscription_item = item.id
    line.pricing.price_details = { price: item.price.id, product: item.price.product }
    line.pricing.unit_amount_decimal = String(item.price.unit_amount)
    invoice.lines.url = `/v1/invoices/${id}/lines`
    state.invoices.set(id, invoice)
    return invoice
  }

  const sessionOrThrow = (id: string): StripeJson => {
    const session = state.checkoutSessions.get(id)
    if (!session) throw noSuch('checkout.session', id)
    return session
  }

  const subscriptionOrThrow = (id: string): StripeJson => {
    const subscription = state.subscriptions.get(id)
    if (!subscription) throw noSuch('subscription', id)
    return subscription
  }

  // A line item's price_data: Stripe makes an inactive price for it (one-time unless recurring).
  const adHocPrice = (data: FormData, param: string): string | undefined => {
    if (Object.keys(data).length === 0) return undefined
    const currency = text(data.currency)
    if (currency === undefined) throw invalid(`Missing required param: ${param}[currency].`, { param: `${param}[currency]` })
    const unitAmount = integer(data.unit_amount, `${param}[unit_amount]`)
    if (unitAmount === undefined || !Number.isInteger(unitAmount) || unitAmount < 0) {
      throw invalid(`Invalid integer: ${String(data.unit_amount)}`, { param: `${param}[unit_amount]` })
    }
    const productData = map(data.product_data)
    const product = text(data.product)
    if (product === undefined && text(productData.name) === undefined) {
      throw invalid(`Missing required param: ${param}[product_data][name].`, {
        param: `${param}[product_data][name]`,
      })
    }
    const interval = text(map(data.recurring).interval)
    const id = stripeId('price')
    state.prices.set(id, {
      unit_amount: unitAmount,
      currency: currency.toLowerCase(),
      interval: interval === undefined ? null : interval === 'year' ? 'year' : 'month',
      product: product ?? stripeId('prod'),
      active: false,
      metadata: {},
    })
    return id
  }

  const createCheckoutSession = (params: FormData): StripeJson => {
    const mode = text(params.mode)
    if (mode === undefined) throw invalid('Missing required param: mode.', { param: 'mode' })
    if (!['payment', 'setup', 'subscription'].includes(mode)) {
      throw invalid(`Invalid mode: ${mode}`, { param: 'mode' })
    }
    const lineItems = list(params.line_items).map((raw, i) => {
      const item = map(raw)
      const price = text(item.price) ?? adHocPrice(map(item.price_data), `line_items[${i}][price_data]`)
      if (price === undefined) {
        throw invalid('Missing required param: line_items[0][price].', {
          param: `line_items[${i}][price]`,
        })
      }
      priceObject(price, `line_items[${i}][price]`)
      return { price, quantity: integer(item.quantity, `line_items[${i}][quantity]`) ?? 1 }
    })
    if (mode !== 'setup' && lineItems.length === 0) {
      throw invalid('Missing required param: line_items.', { param: 'line_items' })
    }
    // As Stripe: payment mode takes one-time prices only, subscription mode a recurring one.
    if (mode === 'payment' && lineItems.some((item) => state.prices.get(item.price)?.interval !== null)) {
      throw invalid(
        'You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.',
        { param: 'line_items' },
      )
    }
    if (mode === 'subscription' && lineItems.every((item) => state.prices.get(item.price)?.interval === null)) {
      throw invalid(
        'You must provide at least one recurring price in `subscription` mode when using prices.',
        { param: 'line_items' },
      )
    }
    if (params.payment_intent_data !== undefined && mode !== 'payment') {
      throw invalid('You can only specify `payment_intent_data` in `payment` mode.', {
        param: 'payment_intent_data',
      })
    }
    if (params.subscription_data !== undefined && mode !== 'subscription') {
      throw invalid('You can only specify `subscription_data` in `subscription` mode.', {
        param: 'subscription_data',
      })
    }
    const customer = text(params.customer)
    if (customer !== undefined && !state.customers.has(customer)) {
      throw noSuch('customer', customer, 'customer')
    }
    if (customer !== undefined && text(params.customer_email) !== undefined) {
      throw invalid('You may only specify one of these parameters: customer, customer_email.', {
        param: 'customer_email',
      })
    }
    const discounts = list(params.discounts).map(map)
    discounts.forEach((discount, i) => {
      const coupon = text(discount.coupon)
      if (coupon !== undefined && !state.coupons.has(coupon)) {
        throw noSuch('coupon', coupon, `discounts[${i}][coupon]`)
      }
    })
    const template = readStripeFixture('derived/checkout.session.completed.subscription.json')
    const id = `cs_test_${randomToken()}${randomToken()}`
    const subtotal = amountOf(lineItems, [])
    const total = amountOf(lineItems, discounts)
    const created = now()
    const session: StripeJson = {
      ...template,
      id,
      mode,
      status: 'open',
      payment_status: 'unpaid',
      created,
      expires_at: created + 24 * 3600,
      client_reference_id: text(params.client_reference_id) ?? null,
      customer: customer ?? null,
      customer_email: text(params.customer_email) ?? null,
      customer_details: null,
      metadata: metadataOf(params.metadata),
      subscription: null,
      invoice: null,
      // Since API 2022-08-01 a payment-mode session's PaymentIntent is made when the customer pays.
      payment_intent: null,
      success_url: text(params.success_url) ?? null,
      cancel_url: text(params.cancel_url) ?? null,
      url: `https://checkout.stripe.com/c/pay/${id}`,
      currency: lineItems[0] ? (state.prices.get(lineItems[0].price)?.currency ?? 'usd') : 'usd',
      amount_subtotal: subtotal,
      amount_total: total,
      total_details: { amount_discount: subtotal - total, amount_shipping: 0, amount_tax: 0 },
      discounts: discounts.map((discount) => ({
        coupon: text(discount.coupon) ?? null,
        promotion_code: text(discount.promotion_code) ?? null,
      })),
      allow_promotion_codes: bool(params.allow_promotion_codes, 'allow_promotion_codes') ?? null,
      locale: text(params.locale) ?? null,
    }
    state.checkoutSessions.set(id, session)
    state.checkouts.set(id, {
      lineItems,
      subscriptionData: map(params.subscription_data),
      ...(params.payment_intent_data !== undefined
        ? { paymentIntentData: map(params.payment_intent_data) }
        : {}),
      discounts,
    })
    return session
  }

  const lineItemsOf = (sessionId: string): StripeJson => {
    const record = state.checkouts.get(sessionId)
    return {
      object: 'list',
      data: (record?.lineItems ?? []).map((item) => {
        const price = priceObject(item.price)
        return {
          id: stripeId('li'),
          object: 'item',
          amount_subtotal: price.unit_amount * item.quantity,
          amount_total: price.unit_amount * item.quantity,
          currency: price.currency,
          description: price.product,
          price,
          quantity: item.quantity,
        }
      }),
      has_more: false,
      url: `/v1/checkout/sessions/${sessionId}/line_items`,
    }
  }

  const expandList = (params: FormData): string[] =>
    list(params.expand).filter((item): item is string => typeof item === 'string')

  const withExpansions = (object: StripeJson, expand: string[]): StripeJson => {
    const copy = structuredClone(object)
    for (const path of expand) {
      if (
        ['subscription', 'customer', 'latest_invoice', 'invoice'].includes(path) &&
        path in copy &&
        copy[path] === null
      ) {
        // Stripe expands an empty expandable field to null (e.g. an open session's subscription).
        continue
      }
      if (path === 'line_items' && copy.object === 'checkout.session') {
        copy.line_items = lineItemsOf(copy.id)
      } else if (path === 'subscription' && typeof copy.subscription === 'string') {
        copy.subscription = structuredClone(subscriptionOrThrow(copy.subscription))
      } else if (path === 'customer' && typeof copy.customer === 'string') {
        copy.customer = structuredClone(state.customers.get(copy.customer) ?? copy.customer)
      } else if (path === 'latest_invoice' && typeof copy.latest_invoice === 'string') {
        copy.latest_invoice = structuredClone(state.invoices.get(copy.latest_invoice) ?? null)
      } else if (path === 'invoice' && typeof copy.invoice === 'string') {
        copy.invoice = structuredClone(state.invoices.get(copy.invoice) ?? null)
      } else {
        throw invalid(`This property cannot be expanded (${path}).`, { param: 'expand' })
      }
    }
    return copy
  }

  const completeCheckout: FakeStripe['completeCheckout'] = (sessionId, opts = {}) => {
    const session = sessionOrThrow(sessionId)
    if (session.status !== 'open') throw new Error(`checkout ${sessionId} is ${session.status}`)
    if (session.mode !== 'subscription') {
      throw new Error('the fake completes subscription mode only')
    }
    const record = state.checkouts.get(sessionId)
    if (!record) throw new Error(`no record of checkout ${sessionId}`)
    const paymentStatus = opts.paymentStatus ?? 'paid'
    const at = now()
    let customerId = session.customer as string | null
    if (customerId === null) {
      const customer = customerObject({ email: session.customer_email ?? 'buyer@example.test' })
      customerId = customer.id as string
    }
    const trialDays = integer(record.subscriptionData.trial_period_days, 'trial_period_days')
    const subscriptionId = stripeId('sub')
    const subscription: StripeJson = {
      ...readStripeFixture('derived/subscription.active.json'),
      id: subscriptionId,
      customer: customerId,
      created: at,
      start_date: at,
      billing_cycle_anchor: at,
      billing_cycle_anchor_config: null,
      billing_schedules: [],
      transfer_data: null,
      pending_invoice_item_interval: null,
      next_pending_invoice_item_invoice: null,
      currency: state.prices.get(record.lineItems[0]?.price ?? '')?.currency ?? 'usd',
      metadata: metadataOf(record.subscriptionData.metadata),
      discounts: [],
      status: paymentStatus === 'unpaid'
        ? 'incomplete'
        : trialDays !== undefined
        ? 'trialing'
        : 'active',
      trial_start: trialDays !== undefined ? at : null,
      trial_end: trialDays !== undefined ? at + trialDays * 24 * 3600 : null,
    }
    subscription.items = {
      object: 'list',
      data: record.lineItems.map((item, i) =>
        itemObject(subscriptionId, item.price, item.quantity, at, `line_items[${i}][price]`)
      ),
      has_more: false,
      url: `/v1/subscription_items?subscription=${subscriptionId}`,
    }
    if (trialDays !== undefined) {
      // As Stripe does: the billing cycle starts when the trial ends; the trial is its own period.
      const trialEnd = at + trialDays * 24 * 3600
      subscription.billing_cycle_anchor = trialEnd
      for (const item of subscription.items.data as StripeJson[]) item.current_period_end = trialEnd
    }
    const amount = trialDays !== undefined ? 0 : amountOf(record.lineItems, record.discounts)
    const invoice = invoiceFor(
      subscription,
      paymentStatus === 'unpaid' ? 'open' : 'paid',
      'subscription_create',
      amount,
    )
    subscription.latest_invoice = invoice.id
    state.subscriptions.set(subscriptionId, subscription)
    Object.assign(session, {
      status: 'complete',
      payment_status: paymentStatus,
      customer: customerId,
      subscription: subscriptionId,
      invoice: invoice.id,
      url: null,
    })
    emit('customer.subscription.created', subscription)
    emit('invoice.finalized', { ...invoice, status: 'open', amount_paid: 0 })
    if (invoice.status === 'paid') emit('invoice.paid', invoice)
    emit('checkout.session.completed', session)
    return {
      session: structuredClone(session),
      subscription: structuredClone(subscription),
      invoice: structuredClone(invoice),
    }
  }

  const succeedAsyncPayment: FakeStripe['succeedAsyncPayment'] = (sessionId) => {
    const session = sessionOrThrow(sessionId)
    const subscription = subscriptionOrThrow(String(session.subscription))
    const invoice = state.invoices.get(String(session.invoice))
    if (!invoice) throw new Error(`checkout ${sessionId} has no invoice`)
    session.payment_status = 'paid'
    subscription.status = 'active'
    Object.assign(invoice, {
      status: 'paid',
      amount_paid: invoice.amount_due,
      amount_remaining: 0,
      status_transitions: { ...invoice.status_transitions, paid_at: now() },
    })
    emit('customer.subscription.updated', subscription, { status: 'incomplete' })
    emit('invoice.paid', invoice)
    emit('checkout.session.async_payment_succeeded', session)
    return {
      session: structuredClone(session),
      subscription: structuredClone(subscription),
      invoice: structuredClone(invoice),
    }
  }

  const completePaymentCheckout: FakeStripe['completePaymentCheckout'] = (sessionId, opts = {}) => {
    const session = sessionOrThrow(sessionId)
    if (session.status !== 'open') throw new Error(`checkout ${sessionId} is ${session.status}`)
    if (session.mode !== 'payment') throw new Error(`checkout ${sessionId} is not in payment mode`)
    const record = state.checkouts.get(sessionId)
    if (!record) throw new Error(`no record of checkout ${sessionId}`)
    const paymentStatus = opts.paymentStatus ?? 'paid'
    const at = now()
    // Payment mode makes no Customer unless asked (customer_creation defaults to if_required).
    const customerId = session.customer as string | null
    const paymentIntent: StripeJson = {
      ...readStripeFixture('payment_intent.json'),
      id: stripeId('pi'),
      amount: session.amount_total,
      amount_received: paymentStatus === 'paid' ? session.amount_total : 0,
      currency: session.currency,
      customer: customerId,
      created: at,
      livemode: false,
      metadata: metadataOf(record.paymentIntentData?.metadata),
      status: paymentStatus === 'paid' ? 'succeeded' : 'processing',
    }
    state.paymentIntents.set(paymentIntent.id, paymentIntent)
    Object.assign(session, {
      status: 'complete',
      payment_status: paymentStatus,
      customer: customerId,
      payment_intent: paymentIntent.id,
      url: null,
    })
    emit('payment_intent.created', { ...paymentIntent, status: 'requires_payment_method' })
    if (paymentStatus === 'paid') emit('payment_intent.succeeded', paymentIntent)
    else emit('payment_intent.processing', paymentIntent)
    emit('checkout.session.completed', session)
    return { session: structuredClone(session), paymentIntent: structuredClone(paymentIntent) }
  }

  const succeedAsyncPurchase: FakeStripe['succeedAsyncPurchase'] = (sessionId) => {
    const session = sessionOrThrow(sessionId)
    const paymentIntent = state.paymentIntents.get(String(session.payment_intent))
    if (!paymentIntent) throw new Error(`checkout ${sessionId} has no PaymentIntent`)
    session.payment_status = 'paid'
    Object.assign(paymentIntent, { status: 'succeeded', amount_received: paymentIntent.amount })
    emit('payment_intent.succeeded', paymentIntent)
    emit('checkout.session.async_payment_succeeded', session)
    return { session: structuredClone(session), paymentIntent: structuredClone(paymentIntent) }
  }

  const failAsyncPayment: FakeStripe['failAsyncPayment'] = (sessionId) => {
    const session = sessionOrThrow(sessionId)
    emit('checkout.session.async_payment_failed', session)
    return structuredClone(session)
  }

  const expireCheckout: FakeStripe['expireCheckout'] = (sessionId) => {
    const session = sessionOrThrow(sessionId)
    if (session.status !== 'open') throw new Error(`checkout ${sessionId} is ${session.status}`)
    Object.assign(session, { status: 'expired', url: null })
    emit('checkout.session.expired', session)
    return structuredClone(session)
  }

  // POST /v1/checkout/sessions/:id/expire: only an open session can be expired; Stripe answers
  // anything else (complete, or expired already) with an invalid_request_error.
  const expireSessionByApi = (sessionId: string): StripeJson => {
    const session = sessionOrThrow(sessionId)
    if (session.status !== 'open') {
      throw invalid(
        `Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${String(session.status)}".`,
        { param: 'session' },
      )
    }
    Object.assign(session, { status: 'expired', url: null })
    emit('checkout.session.expired', session)
    return session
  }

  const renewSubscription: FakeStripe['renewSubscription'] = (subscriptionId, opts = {}) => {
    const subscription = subscriptionOrThrow(subscriptionId)
    const paid = opts.paid ?? true
    const previous = {
      items: structuredClone(subscription.items),
      latest_invoice: subscription.latest_invoice,
      status: subscription.status,
    }
    for (const item of subscription.items.data as StripeJson[]) {
      item.current_period_start = item.current_period_end
      item.current_period_end = addInterval(item.current_period_end, item.price.recurring.interval)
    }
    const amount = (subscription.items.data as StripeJson[]).reduce(
      (sum, item) => sum + item.price.unit_amount * item.quantity,
      0,
    )
    const invoice = invoiceFor(subscription, paid ? 'paid' : 'open', 'subscription_cycle', amount)
    subscription.latest_invoice = invoice.id
    subscription.status = paid ? 'active' : 'past_due'
    emit('invoice.finalized', { ...invoice, status: 'open', amount_paid: 0 })
    emit(paid ? 'invoice.paid' : 'invoice.payment_failed', invoice)
    emit('customer.subscription.updated', subscription, previous)
    return { subscription: structuredClone(subscription), invoice: structuredClone(invoice) }
  }

  const updateSubscription = (id: string, params: FormData): StripeJson => {
    const subscription = subscriptionOrThrow(id)
    if (subscription.status === 'canceled' || subscription.status === 'incomplete_expired') {
      throw invalid(
        'A canceled subscription can only update its cancellation_details and metadata.',
      )
    }
    const previous: StripeJson = {}
    const items = list(params.items).map(map)
    if (items.length > 0) {
      previous.items = structuredClone(subscription.items)
      const data = subscription.items.data as StripeJson[]
      items.forEach((change, i) => {
        const itemId = text(change.id)
        const price = text(change.price)
        const quantity = integer(change.quantity, `items[${i}][quantity]`)
        const deleted = bool(change.deleted, `items[${i}][deleted]`)
        if (itemId === undefined) {
          if (price === undefined) {
            throw invalid('Missing required param: items[0][price].', {
              param: `items[${i}][price]`,
            })
          }
          const start = data[0]?.current_period_start ?? now()
          data.push(itemObject(id, price, quantity ?? 1, start, `items[${i}][price]`))
          return
        }
        const at = data.findIndex((item) => item.id === itemId)
        if (at < 0) throw noSuch('subscription_item', itemId, `items[${i}][id]`)
        const item = data[at]
        if (!item) return
        if (deleted) {
          data.splice(at, 1)
          return
        }
        if (price !== undefined) {
          item.price = priceObject(price, `items[${i}][price]`)
          item.plan = planObject(item.price)
        }
        if (quantity !== undefined) item.quantity = quantity
      })
    }
    const trialEnd = text(params.trial_end)
    if (trialEnd !== undefined) {
      if (trialEnd !== 'now') throw invalid('The fake ends trials with trial_end=now only', { param: 'trial_end' })
      if (subscription.status !== 'trialing') {
        throw invalid('This subscription is not trialing', { param: 'trial_end' })
      }
      // Ending a trial now starts a paid billing cycle now (a new anchor) and invoices at once.
      const at = now()
      previous.status = subscription.status
      previous.trial_end = subscription.trial_end
      previous.billing_cycle_anchor = subscription.billing_cycle_anchor
      previous.items = previous.items ?? structuredClone(subscription.items)
      for (const item of subscription.items.data as StripeJson[]) {
        item.current_period_start = at
        item.current_period_end = addInterval(at, item.price.recurring.interval)
      }
      Object.assign(subscription, { status: 'active', trial_end: at, billing_cycle_anchor: at })
      const amount = (subscription.items.data as StripeJson[]).reduce(
        (sum, item) => sum + item.price.unit_amount * item.quantity,
        0,
      )
      const invoice = invoiceFor(subscription, 'paid', 'subscription_update', amount)
      previous.latest_invoice = subscription.latest_invoice
      subscription.latest_invoice = invoice.id
      emit('invoice.finalized', { ...invoice, status: 'open', amount_paid: 0 })
      emit('invoice.paid', invoice)
    }
    const cancel = bool(params.cancel_at_period_end, 'cancel_at_period_end')
    if (cancel !== undefined && cancel !== subscription.cancel_at_period_end) {
      previous.cancel_at_period_end = subscription.cancel_at_period_end
      previous.cancel_at = subscription.cancel_at
      previous.canceled_at = subscription.canceled_at
      const end = subscription.items.data[0]?.current_period_end ?? null
      subscription.cancel_at_period_end = cancel
      subscription.cancel_at = cancel ? end : null
      subscription.canceled_at = cancel ? now() : null
      subscription.cancellation_details = {
        comment: null,
        feedback: null,
        reason: cancel ? 'cancellation_requested' : null,
      }
    }
    if (params.metadata !== undefined) {
      previous.metadata = subscription.metadata
      subscription.metadata = metadataOf(params.metadata, subscription.metadata)
    }
    const proration = text(params.proration_behavior)
    if (
      proration !== undefined &&
      !['create_prorations', 'none', 'always_invoice'].includes(proration)
    ) {
      throw invalid(`Invalid proration_behavior: ${proration}`, { param: 'proration_behavior' })
    }
    if (Object.keys(previous).length > 0) {
      emit('customer.subscription.updated', subscription, previous)
    }
    return subscription
  }

  const cancelSubscription = (id: string): StripeJson => {
    const subscription = subscriptionOrThrow(id)
    if (subscription.status === 'canceled') {
      throw invalid(`No such subscription: '${id}'`, { code: 'resource_missing', param: 'id' })
    }
    const at = now()
    const previous = { status: subscription.status }
    Object.assign(subscription, {
      status: 'canceled',
      canceled_at: subscription.canceled_at ?? at,
      ended_at: at,
      cancellation_details: { comment: null, feedback: null, reason: 'cancellation_requested' },
    })
    emit('customer.subscription.deleted', subscription, previous)
    return subscription
  }

  const createCoupon = (params: FormData): StripeJson => {
    const duration = text(params.duration) ?? 'once'
    if (!['once', 'repeating', 'forever'].includes(duration)) {
      throw invalid(`Invalid duration: ${duration}`, { param: 'duration' })
    }
    const percentOff = integer(params.percent_off, 'percent_off')
    const amountOff = integer(params.amount_off, 'amount_off')
    if ((percentOff === undefined) === (amountOff === undefined)) {
      throw invalid('You must pass exactly one of percent_off or amount_off.', {
        param: 'percent_off',
      })
    }
    if (percentOff !== undefined && (percentOff <= 0 || percentOff > 100)) {
      throw invalid('Invalid percent_off: must be between 0 and 100', { param: 'percent_off' })
    }
    const currency = text(params.currency)
    if (amountOff !== undefined && currency === undefined) {
      throw invalid('Missing required param: currency.', { param: 'currency' })
    }
    const months = integer(params.duration_in_months, 'duration_in_months')
    if ((duration === 'repeating') !== (months !== undefined)) {
      throw invalid('duration_in_months is required exactly when duration is repeating.', {
        param: 'duration_in_months',
      })
    }
    const redeemBy = integer(params.redeem_by, 'redeem_by')
    if (redeemBy !== undefined && redeemBy <= now()) {
      throw invalid('Invalid redeem_by: must be in the future', { param: 'redeem_by' })
    }
    const id = text(params.id) ?? randomToken().slice(0, 8)
    if (state.coupons.has(id)) {
      throw invalid('Coupon already exists.', { code: 'resource_already_exists', param: 'id' })
    }
    const coupon = {
      id,
      object: 'coupon',
      amount_off: amountOff ?? null,
      created: now(),
      currency: currency ?? null,
      duration,
      duration_in_months: months ?? null,
      livemode: false,
      max_redemptions: integer(params.max_redemptions, 'max_redemptions') ?? null,
      metadata: metadataOf(params.metadata),
      name: text(params.name) ?? null,
      percent_off: percentOff ?? null,
      redeem_by: redeemBy ?? null,
      times_redeemed: 0,
      valid: true,
    }
    state.coupons.set(id, coupon)
    return coupon
  }

  const createPortalSession = (params: FormData): StripeJson => {
    const customer = text(params.customer)
    if (customer === undefined) {
      throw invalid('Missing required param: customer.', { param: 'customer' })
    }
    if (!state.customers.has(customer)) throw noSuch('customer', customer, 'customer')
    const session = {
      id: `bps_${randomToken()}`,
      object: 'billing_portal.session',
      configuration: 'bpc_fake',
      created: now(),
      customer,
      flow: null,
      livemode: false,
      locale: null,
      on_behalf_of: null,
      return_url: text(params.return_url) ?? null,
      url: `https://billing.stripe.com/p/session/test_${randomToken()}`,
    }
    state.portalSessions.set(session.id, session)
    return session
  }

  // --- HTTP -------------------------------------------------------------------------------------

  const app = new Hono<{ Variables: Variables }>()

  app.onError((error, c) => {
    if (error instanceof FakeStripeError) {
      return c.json(error.body, error.status as 400)
    }
    return c.json({ error: { type: 'api_error', message: String(error) } }, 500)
  })

  app.notFound((c) =>
    c.json(
      {
        error: {
          type: 'invalid_request_error',
          message: `Unrecognized request URL (${c.req.method}: ${
            new URL(c.req.url).pathname
          }). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
        },
      },
      404,
    )
  )

  app.use('*', async (c, next) => {
    const method = c.req.method
    const path = new URL(c.req.url).pathname
    const body = method === 'POST' ? await c.req.text() : ''
    const query = new URL(c.req.url).search
    const idempotencyKey = c.req.header('idempotency-key') ?? null
    const record = (status: number, replayed: boolean, params: FormData): void => {
      state.requests.push({
        method,
        path,
        params,
        idempotencyKey,
        stripeVersion: c.req.header('stripe-version') ?? null,
        status,
        replayed,
      })
    }
    let params: FormData
    try {
      params = parseStripeForm(method === 'POST' ? body : query)
    } catch {
      record(400, false, {})
      return c.json({ error: { type: 'invalid_request_error', message: 'Invalid form body' } }, 400)
    }
    const authorization = c.req.header('authorization') ?? ''
    if (!/^Bearer sk_(test|live)_\S+$/.test(authorization)) {
      record(401, false, params)
      return c.json(
        {
          error: {
            type: 'invalid_request_error',
            message:
              'You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth.',
          },
        },
        401,
      )
    }
    const failureAt = failures.findIndex(
      (f) =>
        f.method === method && (typeof f.path === 'string' ? f.path === path : f.path.test(path)),
    )
    const injected = failures[failureAt]
    if (injected) {
      injected.times -= 1
      if (injected.times <= 0) failures.splice(failureAt, 1)
      record(injected.failure.status, false, params)
      return c.json(
        {
          error: {
            type: injected.failure.type ??
              (injected.failure.status >= 500 ? 'api_error' : 'invalid_request_error'),
            message: injected.failure.message ?? 'Injected failure',
            ...(injected.failure.code ? { code: injected.failure.code } : {}),
          },
        },
        injected.failure.status as 400,
      )
    }
    const fingerprint = `${method} ${path} ${body}`
    if (method === 'POST' && idempotencyKey !== null) {
      const stored = state.idempotency.get(idempotencyKey)
      if (stored) {
        if (stored.fingerprint !== fingerprint) {
          record(400, false, params)
          return c.json(
            {
              error: {
                type: 'idempotency_error',
                message:
                  `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
              },
            },
            400,
          )
        }
        record(stored.status, true, params)
        return c.json(stored.body, stored.status as 200, { 'idempotent-replayed': 'true' })
      }
    }
    c.set('params', params)
    await next()
    const rewriteAt = rewrites.findIndex(
      (r) =>
        r.method === method && (typeof r.path === 'string' ? r.path === path : r.path.test(path)),
    )
    const rewriting = rewrites[rewriteAt]
    if (rewriting && c.res.status < 300) {
      rewrites.splice(rewriteAt, 1)
      const rewritten = rewriting.rewrite((await c.res.clone().json()) as StripeJson)
      c.res = new Response(JSON.stringify(rewritten), {
        status: c.res.status,
        headers: { 'content-type': 'application/json' },
      })
    }
    const status = c.res.status
    if (method === 'POST' && idempotencyKey !== null && status < 500) {
      const answer = (await c.res.clone().json()) as StripeJson
      state.idempotency.set(idempotencyKey, { fingerprint, status, body: answer })
    }
    record(status, false, params)
  })

  const paramsOf = (c: Context<{ Variables: Variables }>): FormData => c.get('params')
  const respond = (c: Context<{ Variables: Variables }>, object: StripeJson): Response =>
    c.json(withExpansions(object, expandList(paramsOf(c))))

  app.post('/v1/customers', (c) => respond(c, customerObject(paramsOf(c))))
  app.get('/v1/customers/:id', (c) => {
    const customer = state.customers.get(c.req.param('id'))
    if (!customer) throw noSuch('customer', c.req.param('id'))
    return respond(c, customer)
  })
  app.post('/v1/checkout/sessions', (c) => respond(c, createCheckoutSession(paramsOf(c))))
  app.get('/v1/checkout/sessions/:id', (c) => respond(c, sessionOrThrow(c.req.param('id'))))
  app.post(
    '/v1/checkout/sessions/:id/expire',
    (c) => respond(c, expireSessionByApi(c.req.param('id'))),
  )
  app.get('/v1/checkout/sessions/:id/line_items', (c) => {
    sessionOrThrow(c.req.param('id'))
    return c.json(lineItemsOf(c.req.param('id')))
  })
  app.get('/v1/subscriptions/:id', (c) => respond(c, subscriptionOrThrow(c.req.param('id'))))
  app.post(
    '/v1/subscriptions/:id',
    (c) => respond(c, updateSubscription(c.req.param('id'), paramsOf(c))),
  )
  app.delete('/v1/subscriptions/:id', (c) => respond(c, cancelSubscription(c.req.param('id'))))
  app.get('/v1/invoices/:id', (c) => {
    const invoice = state.invoices.get(c.req.param('id'))
    if (!invoice) throw noSuch('invoice', c.req.param('id'))
    return respond(c, invoice)
  })
  app.post('/v1/billing_portal/sessions', (c) => respond(c, createPortalSession(paramsOf(c))))
  app.post('/v1/coupons', (c) => respond(c, createCoupon(paramsOf(c))))
  app.get('/v1/coupons/:id', (c) => {
    const coupon = state.coupons.get(c.req.param('id'))
    if (!coupon) throw noSuch('coupon', c.req.param('id'))
    return respond(c, coupon)
  })

  // --- the catalog: products and prices as Stripe keeps them ----------------------------------

  const productObject = (params: FormData, id: string): StripeJson => {
    const at = now()
    return {
      id,
      object: 'product',
      active: bool(params.active, 'active') ?? true,
      attributes: [],
      created: at,
      default_price: null,
      description: text(params.description) ?? null,
      images: [],
      livemode: false,
      marketing_features: [],
      metadata: metadataOf(params.metadata),
      name: text(params.name) ?? '',
      package_dimensions: null,
      shippable: null,
      statement_descriptor: null,
      tax_code: null,
      type: 'service',
      unit_label: null,
      updated: at,
      url: null,
    }
  }

  const createProduct = (params: FormData): StripeJson => {
    const name = text(params.name)
    if (!name) throw invalid('Missing required param: name.', { param: 'name' })
    const id = text(params.id) ?? stripeId('prod')
    if (state.products.has(id)) {
      throw invalid(`Product already exists.`, { code: 'resource_already_exists', param: 'id' })
    }
    const product = productObject(params, id)
    state.products.set(id, product)
    emit('product.created', product)
    return product
  }

  const productOrThrow = (id: string): StripeJson => {
    const product = state.products.get(id)
    if (!product) throw noSuch('product', id)
    return product
  }

  const updateProduct = (id: string, params: FormData): StripeJson => {
    const product = productOrThrow(id)
    const next: StripeJson = {
      ...product,
      ...(params.name !== undefined ? { name: text(params.name) } : {}),
      ...(params.description !== undefined
        ? { description: text(params.description) || null }
        : {}),
      ...(params.active !== undefined ? { active: bool(params.active, 'active') } : {}),
      metadata: metadataOf(params.metadata, product.metadata),
      updated: now(),
    }
    state.products.set(id, next)
    emit('product.updated', next)
    return next
  }

  // A lookup key names one price; transfer_lookup_key takes it from the price that has it.
  const claimLookupKey = (key: string, forId: string, transfer: boolean, param: string): void => {
    for (const [otherId, other] of state.prices) {
      if (otherId === forId || other.lookup_key !== key) continue
      if (!transfer) {
        throw invalid(`A price (\`${otherId}\`) already uses that lookup key.`, { param })
      }
      state.prices.set(otherId, { ...other, lookup_key: null })
    }
  }

  const createPrice = (params: FormData): StripeJson => {
    const currency = text(params.currency)
    if (!currency) throw invalid('Missing required param: currency.', { param: 'currency' })
    const unitAmount = integer(params.unit_amount, 'unit_amount')
    if (unitAmount === undefined || unitAmount < 0 || !Number.isInteger(unitAmount)) {
      throw invalid('Missing required param: unit_amount.', { param: 'unit_amount' })
    }
    // Without `recurring` the price is one-time (what stripe:sync makes for a product).
    const interval = params.recurring === undefined ? null : text(map(params.recurring).interval)
    if (interval !== null && interval !== 'month' && interval !== 'year') {
      throw invalid('This fake only knows one-time prices and recurring ones by month or year.', {
        param: 'recurring[interval]',
      })
    }
    const productId = text(params.product)
    if (!productId) throw invalid('Missing required param: product.', { param: 'product' })
    productOrThrow(productId)
    const id = stripeId('price')
    const lookupKey = text(params.lookup_key)
    if (lookupKey) {
      claimLookupKey(
        lookupKey,
        id,
        bool(params.transfer_lookup_key, 'transfer_lookup_key') ?? false,
        'lookup_key',
      )
    }
    state.prices.set(id, {
      unit_amount: unitAmount,
      currency: currency.toLowerCase(),
      interval,
      product: productId,
      active: bool(params.active, 'active') ?? true,
      lookup_key: lookupKey ?? null,
      metadata: metadataOf(params.metadata),
      nickname: text(params.nickname) ?? null,
      created: now(),
    })
    const price = priceObject(id)
    emit('price.created', price)
    return price
  }

  // Only what Stripe lets change on a price: active, metadata, nickname, lookup_key.
  const updatePrice = (id: string, params: FormData): StripeJson => {
    const price = state.prices.get(id)
    if (!price) throw noSuch('price', id)
    for (const key of Object.keys(params)) {
      if (
        !['active', 'metadata', 'nickname', 'lookup_key', 'transfer_lookup_key', 'expand'].includes(
          key,
        )
      ) {
        throw invalid(`Received unknown parameter: ${key}`, { param: key })
      }
    }
    const lookupKey = params.lookup_key === undefined
      ? price.lookup_key
      : text(params.lookup_key) || null
    if (lookupKey && lookupKey !== price.lookup_key) {
      claimLookupKey(
        lookupKey,
        id,
        bool(params.transfer_lookup_key, 'transfer_lookup_key') ?? false,
        'lookup_key',
      )
    }
    state.prices.set(id, {
      ...price,
      active: bool(params.active, 'active') ?? price.active ?? true,
      metadata: metadataOf(params.metadata, price.metadata ?? {}),
      nickname: params.nickname === undefined
        ? (price.nickname ?? null)
        : text(params.nickname) || null,
      lookup_key: lookupKey ?? null,
    })
    const object = priceObject(id)
    emit('price.updated', object)
    return object
  }

  const listPrices = (params: FormData): StripeJson => {
    const keys = list(params.lookup_keys).filter((key): key is string => typeof key === 'string')
    const active = bool(params.active, 'active')
    const product = text(params.product)
    const data = [...state.prices.keys()]
      .map((id) => priceObject(id))
      .filter(
        (price) =>
          (keys.length === 0 || keys.includes(price.lookup_key)) &&
          (active === undefined || price.active === active) &&
          (product === undefined || price.product === product),
      )
      .sort((a, b) => b.created - a.created)
    return { object: 'list', data, has_more: false, url: '/v1/prices' }
  }

  app.post('/v1/products', (c) => respond(c, createProduct(paramsOf(c))))
  app.get('/v1/products/:id', (c) => respond(c, productOrThrow(c.req.param('id'))))
  app.post('/v1/products/:id', (c) => respond(c, updateProduct(c.req.param('id'), paramsOf(c))))
  app.post('/v1/prices', (c) => respond(c, createPrice(paramsOf(c))))
  app.get('/v1/prices', (c) => c.json(listPrices(paramsOf(c))))
  app.get('/v1/prices/:id', (c) => respond(c, priceObject(c.req.param('id'), 'id')))
  app.post('/v1/prices/:id', (c) => respond(c, updatePrice(c.req.param('id'), paramsOf(c))))

  // --- refunds: card refunds succeed at once; refund.created and charge.refunded follow -------

  const addPayment = (input: { amount: number; currency?: string }): FakePayment => {
    const payment: FakePayment = {
      paymentIntent: stripeId('pi'),
      charge: stripeId('ch'),
      amount: input.amount,
      currency: input.currency ?? 'usd',
      amountRefunded: 0,
    }
    state.payments.set(payment.paymentIntent, payment)
    return payment
  }

  const createRefund = (params: FormData): StripeJson => {
    const intent = text(params.payment_intent)
    const chargeId = text(params.charge)
    const payment = intent !== undefined
      ? state.payments.get(intent)
      : [...state.payments.values()].find((p) => p.charge === chargeId)
    if (intent === undefined && chargeId === undefined) {
      throw invalid('One of the following params should be provided for this request: payment_intent or charge.')
    }
    if (!payment) {
      throw intent !== undefined
        ? noSuch('payment_intent', intent, 'payment_intent')
        : noSuch('charge', String(chargeId), 'charge')
    }
    const left = payment.amount - payment.amountRefunded
    const amount = integer(params.amount, 'amount') ?? left
    if (left <= 0) {
      throw invalid(`Charge ${payment.charge} has already been refunded.`, { code: 'charge_already_refunded' })
    }
    if (amount <= 0 || amount > left) {
      throw invalid(
        `Refund amount (${amount}) is greater than unrefunded amount on charge (${left})`,
        { code: 'amount_too_large', param: 'amount' },
      )
    }
    payment.amountRefunded += amount
    const refund: StripeJson = {
      id: stripeId('re'),
      object: 'refund',
      amount,
      balance_transaction: stripeId('txn'),
      charge: payment.charge,
      created: now(),
      currency: payment.currency,
      destination_details: { card: { reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' }, type: 'card' },
      metadata: metadataOf(params.metadata),
      payment_intent: payment.paymentIntent,
      payment_method: stripeId('pm'),
      reason: text(params.reason) ?? null,
      receipt_number: null,
      source_transfer_reversal: null,
      status: 'succeeded',
      transfer_reversal: null,
    }
    state.refunds.set(refund.id, refund)
    emit('refund.created', refund)
    // Since 2022-11-15 a charge no longer embeds its refunds: only amount_refunded says it.
    emit('charge.refunded', {
      id: payment.charge,
      object: 'charge',
      amount: payment.amount,
      amount_captured: payment.amount,
      amount_refunded: payment.amountRefunded,
      captured: true,
      created: now(),
      currency: payment.currency,
      paid: true,
      payment_intent: payment.paymentIntent,
      refunded: payment.amountRefunded >= payment.amount,
      status: 'succeeded',
    })
    return refund
  }

  app.post('/v1/refunds', (c) => respond(c, createRefund(paramsOf(c))))
  app.get('/v1/refunds/:id', (c) => {
    const refund = state.refunds.get(c.req.param('id'))
    if (!refund) throw noSuch('refund', c.req.param('id'))
    return respond(c, refund)
  })

  const served = await serveFetch((request) => app.fetch(request))

  return {
    url: served.url,
    app: app as unknown as Hono,
    state,
    events,
    makeEvent: (type, object, eventOptions = {}) =>
      makeStripeEvent(type, object, { created: now(), ...eventOptions }),
    signedDelivery: (event, secret, deliveryOptions = {}) =>
      signedDelivery(event, secret, deliveryOptions),
    completeCheckout,
    completePaymentCheckout,
    succeedAsyncPurchase,
    succeedAsyncPayment,
    failAsyncPayment,
    expireCheckout,
    renewSubscription,
    addPayment,
    fail: (method, path, failure, times = 1) => {
      failures.push({ method: method.toUpperCase(), path, failure, times })
    },
    rewriteNext: (method, path, rewrite) => {
      rewrites.push({ method: method.toUpperCase(), path, rewrite })
    },
    requestsTo: (method, path) =>
      state.requests.filter(
        (r) =>
          r.method === method.toUpperCase() &&
          (typeof path === 'string' ? r.path === path : path.test(r.path)),
      ),
    close: served.close,
  }
}
