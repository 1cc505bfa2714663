import { createHmac, randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Hono, type Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { fixtureJson } from '../../packages/providers/razorpay/fixtures/load.ts'

/** How the fake is set up; every field has a test default. */
export type FakeRazorpayOptions = {
  keyId?: string
  keySecret?: string
  webhookSecret?: string
  accountId?: string
}

/** A request the fake received, with the status it answered. */
export type RecordedRequest = {
  method: string
  path: string
  headers: Record<string, string>
  body: unknown
  status: number
}

/** An order the fake holds, as the Orders API shows it. */
export type FakeOrder = {
  id: string
  entity: 'order'
  amount: number
  amount_paid: number
  amount_due: number
  currency: string
  receipt: string | null
  offer_id: null
  status: 'created' | 'attempted' | 'paid'
  attempts: number
  notes: Record<string, string> | []
  created_at: number
}

/** A captured payment the fake holds. */
export type FakePayment = {
  id: string
  entity: 'payment'
  order_id: string
  amount: number
  currency: string
  status: 'captured' | 'failed'
  method: string
  captured: boolean
  created_at: number
}

/** A refund the fake holds (POST /v1/payments/:id/refund), shaped as Razorpay's refund entity. */
export type FakeRefund = {
  id: string
  entity: 'refund'
  amount: number
  currency: string
  payment_id: string
  notes: Record<string, string> | []
  receipt: string | null
  acquirer_data: { arn: string | null }
  created_at: number
  batch_id: null
  status: 'pending' | 'processed' | 'failed'
  speed_processed: 'normal'
  speed_requested: 'normal'
}

/** Refund webhook types the fake signs. */
export type FakeRefundEvent = 'refund.created' | 'refund.processed' | 'refund.failed'

/** What Razorpay Checkout hands the browser after a successful payment of an order. */
export type CheckoutResult = {
  razorpay_order_id: string
  razorpay_payment_id: string
  razorpay_signature: string
}

/** Webhook event types the fake can build from the official samples. */
export type FakeWebhookEvent = 'payment.captured' | 'order.paid' | 'payment.failed'

/** What a webhook is about; amounts default to the order's (unknown orders need `amount`). */
export type WebhookOptions = {
  orderId: string
  /** Default: the order's last payment, else a new id. */
  paymentId?: string
  amount?: number
  currency?: string
  /** Event created_at (unix seconds); default now. */
  createdAt?: number
  /** x-razorpay-event-id; default a new one. */
  eventId?: string
  /** Sign with this secret instead of the fake's webhook secret. */
  secret?: string
}

/** A signed webhook delivery, ready to POST. */
export type FakeWebhook = {
  event: string
  eventId: string
  body: string
  signature: string
  headers: Record<string, string>
  /** `{method: 'POST', headers, body}` for fetch or `app.request`. */
  init: { method: 'POST'; headers: Record<string, string>; body: string }
}

/** A running fake Razorpay API. */
export type FakeRazorpay = {
  /** http://127.0.0.1:<port> */
  url: string
  keyId: string
  keySecret: string
  webhookSecret: string
  /** RAZORPAY_* variables pointing at this fake. */
  env: {
    RAZORPAY_KEY_ID: string
    RAZORPAY_KEY_SECRET: string
    RAZORPAY_WEBHOOK_SECRET: string
    RAZORPAY_API_BASE: string
  }
  app: Hono
  /** The fake without a socket: a fetch that calls the Hono app in-process. */
  fetch: typeof fetch
  requests: RecordedRequest[]
  orders: Map<string, FakeOrder>
  payments: Map<string, FakePayment>
  /** Answers the next `times` requests with this status and Razorpay error body. */
  failNext: (status: number, times?: number) => void
  /** Pays an order; returns what Checkout hands back, signed with the key secret. */
  pay: (
    orderId: string,
    options?: { paymentId?: string; amount?: number; currency?: string },
  ) => CheckoutResult
  /** A realistic webhook body from the official sample, signed with the webhook secret. */
  webhook: (event: FakeWebhookEvent, options: WebhookOptions) => FakeWebhook
  /** Refunds made through the API, by id. */
  refunds: Map<string, FakeRefund>
  /** A signed refund.* webhook about a refund the fake holds (status as the event says). */
  refundWebhook: (
    event: FakeRefundEvent,
    refundId: string,
    options?: { createdAt?: number; eventId?: string },
  ) => FakeWebhook
  close: () => Promise<void>
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** A Razorpay-looking id: prefix + 14 base62 characters (e.g. order_DESoU0U4ikYA19). */
export const razorpayId = (prefix: 'order' | 'pay' | 'acc' | 'rfnd' | ''): string => {
  const chars = Array.from(randomBytes(14), (byte) => BASE62[byte % 62]).join('')
  return prefix === '' ? chars : `${prefix}_${chars}`
}

/** HMAC-SHA256 hex with node:crypto: independent of the WebCrypto code under test. */
export const signHex = (message: string | Uint8Array, secret: string): string =>
  createHmac('sha256', secret)
    .update(typeof message === 'string' ? Buffer.from(message, 'utf8') : message)
    .digest('hex')

const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

const unixNow = (): number => Math.floor(Date.now() / 1000)

const razorpayError = (
  description: string,
  field: string | null = null,
  reason = 'input_validation_failed',
) => ({
  error: {
    code: 'BAD_REQUEST_ERROR',
    description,
    source: 'business',
    step: 'payment_initiation',
    reason,
    metadata: {},
    field,
  },
})

const authenticationFailed = () => ({
  error: {
    code: 'BAD_REQUEST_ERROR',
    description: 'Authentication failed',
    source: 'NA',
    step: 'NA',
    reason: 'NA',
    metadata: {},
  },
})

const serverError = () => ({
  error: {
    code: 'SERVER_ERROR',
    description: 'The server encountered an error. The incident has been reported to admins.',
    source: 'NA',
    step: 'NA',
    reason: 'NA',
    metadata: {},
  },
})

const ORDER_FIELDS = new Set(['amount', 'currency', 'receipt', 'notes', 'partial_payment'])

// The checks Razorpay makes on POST /v1/orders that Tollgate could get wrong.
const orderProblem = (body: unknown): ReturnType<typeof razorpayError> | null => {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return razorpayError('The request body must be a JSON object')
  }
  const fields = body as Record<string, unknown>
  const extra = Object.keys(fields).filter((key) => !ORDER_FIELDS.has(key))
  if (extra.length > 0) {
    return razorpayError(
      `${extra.join(', ')} is/are not required and should not be sent`,
      null,
      'extra_field_sent',
    )
  }
  const { amount, currency, receipt, notes } = fields
  if (amount === undefined) return razorpayError('The amount field is required.', 'amount')
  if (typeof amount !== 'number' || !Number.isInteger(amount)) {
    return razorpayError('The amount must be an integer.', 'amount')
  }
  if (currency === undefined) return razorpayError('The currency field is required.', 'currency')
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) {
    return razorpayError('The selected currency is invalid.', 'currency')
  }
  if (amount < 100) return razorpayError(`The amount must be at least ${currency} 1.00`, 'amount')
  if (receipt !== undefined && (typeof receipt !== 'string' || receipt.length > 40)) {
    return razorpayError('The receipt may not be greater than 40 characters.', 'receipt')
  }
  if (notes !== undefined) {
    const ok =
      typeof notes === 'object' &&
      notes !== null &&
      !Array.isArray(notes) &&
      Object.keys(notes).length <= 15 &&
      Object.values(notes).every((value) => typeof value === 'string' && value.length <= 256)
    if (!ok)
      return razorpayError('notes must be at most 15 strings of at most 256 characters', 'notes')
  }
  return null
}

const toHeaders = (message: IncomingMessage): Headers => {
  const headers = new Headers()
  for (const [name, value] of Object.entries(message.headers)) {
    if (value === undefined) continue
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item)
  }
  return headers
}

const readAll = async (message: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = []
  for await (const chunk of message) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** A fetch handler served over HTTP by node:http (a tiny adapter: no @hono/node-server). */
export type NodeServer = { url: string; close: () => Promise<void> }

/** Serves `handler` on 127.0.0.1 at a free port. */
export const serveOnNode = async (
  handler: (request: Request) => Response | Promise<Response>,
): Promise<NodeServer> => {
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      try {
        const method = req.method ?? 'GET'
        const body = method === 'GET' || method === 'HEAD' ? undefined : await readAll(req)
        const request = new Request(
          new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`),
          {
            method,
            headers: toHeaders(req),
            body,
          },
        )
        const response = await handler(request)
        const headers: Record<string, string> = {}
        response.headers.forEach((value, name) => {
          headers[name] = value
        })
        res.writeHead(response.status, headers)
        res.end(Buffer.from(await response.arrayBuffer()))
      } catch {
        if (!res.headersSent) res.writeHead(500)
        res.end()
      }
    })()
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}

type SampleEnvelope = {
  entity: string
  account_id: string
  event: string
  contains: string[]
  payload: Record<string, { entity: Record<string, unknown> }>
  created_at: number
}

const SAMPLE_FILES: Record<FakeWebhookEvent, string> = {
  'payment.captured': 'webhooks/payment.captured.card.json',
  'order.paid': 'webhooks/order.paid.card.json',
  // The UPI sample is the clean failure (the card one says captured: true).
  'payment.failed': 'webhooks/payment.failed.upi.json',
}

/** What a webhook body built from the official samples is about. */
export type WebhookEventOptions = {
  orderId: string
  paymentId: string
  amount: number
  currency: string
  /** Event created_at, unix seconds. */
  createdAt: number
  accountId?: string
  /** The order's own fields for order.paid (default: a paid order of `amount`). */
  order?: Partial<Pick<FakeOrder, 'amount' | 'receipt' | 'notes' | 'attempts' | 'created_at'>>
}

/** A realistic payment.captured, order.paid or payment.failed body from the official samples. */
export const razorpayWebhookEvent = (
  event: FakeWebhookEvent,
  options: WebhookEventOptions,
): Record<string, unknown> => {
  const sample = fixtureJson<SampleEnvelope>(SAMPLE_FILES[event])
  const currency = options.currency.toUpperCase()
  const payment = {
    ...sample.payload.payment?.entity,
    id: options.paymentId,
    order_id: options.orderId,
    amount: options.amount,
    currency,
    created_at: options.createdAt - 5,
    ...(event === 'payment.failed' ? {} : { status: 'captured', captured: true }),
  }
  const payload: SampleEnvelope['payload'] = { payment: { entity: payment } }
  if (event === 'order.paid') {
    const orderAmount = options.order?.amount ?? options.amount
    payload.order = {
      entity: {
        ...sample.payload.order?.entity,
        id: options.orderId,
        amount: orderAmount,
        amount_paid: options.amount,
        amount_due: Math.max(orderAmount - options.amount, 0),
        currency,
        receipt: options.order?.receipt ?? null,
        status: 'paid',
        attempts: Math.max(options.order?.attempts ?? 1, 1),
        notes: options.order?.notes ?? [],
        created_at: options.order?.created_at ?? options.createdAt - 60,
      },
    }
  }
  return {
    entity: 'event',
    account_id: options.accountId ?? sample.account_id,
    event,
    contains: Object.keys(payload),
    payload,
    created_at: options.createdAt,
  }
}

/** Signs a webhook body (an object is serialised first): HMAC-SHA256 hex of the exact text sent. */
export const signWebhook = (
  envelope: Record<string, unknown> | string,
  secret: string,
  eventId: string = razorpayId(''),
): FakeWebhook => {
  const body = typeof envelope === 'string' ? envelope : JSON.stringify(envelope)
  const parsed: unknown = typeof envelope === 'string' ? safeJson(body) : envelope
  const event =
    typeof parsed === 'object' && parsed !== null && 'event' in parsed ? String(parsed.event) : ''
  const signature = signHex(body, secret)
  const headers = {
    'content-type': 'application/json',
    'x-razorpay-signature': signature,
    'x-razorpay-event-id': eventId,
  }
  return {
    event,
    eventId,
    body,
    signature,
    headers,
    init: { method: 'POST', headers, body },
  }
}

/** Starts a fake Razorpay API on 127.0.0.1:<random port>; `close()` it in afterAll. */
export const startFakeRazorpay = async (
  options: FakeRazorpayOptions = {},
): Promise<FakeRazorpay> => {
  const keyId = options.keyId ?? `rzp_test_${razorpayId('')}`
  const keySecret = options.keySecret ?? razorpayId('') + razorpayId('')
  const webhookSecret = options.webhookSecret ?? `whsec_${razorpayId('')}`
  const accountId = options.accountId ?? razorpayId('acc')
  const expectedAuth = `Basic ${Buffer.from(`${keyId}:${keySecret}`).toString('base64')}`

  const requests: RecordedRequest[] = []
  const orders = new Map<string, FakeOrder>()
  const payments = new Map<string, FakePayment>()
  const failures: number[] = []
  const refunds = new Map<string, FakeRefund>()
  // X-Refund-Idempotency: the same key answers the refund it made (the body must match).
  const refundKeys = new Map<string, { body: string; refund: FakeRefund }>()

  const app = new Hono()

  app.use(async (c, next) => {
    const raw = await c.req.raw.clone().text()
    let body: unknown = raw
    try {
      body = raw === '' ? null : JSON.parse(raw)
    } catch {
      // Recorded as the text received.
    }
    const headers: Record<string, string> = {}
    c.req.raw.headers.forEach((value, name) => {
      headers[name] = value
    })
    const failure = failures.shift()
    let refused: Response | undefined
    if (failure !== undefined) {
      refused = c.json(
        failure >= 500 ? serverError() : razorpayError('Request failed'),
        failure as ContentfulStatusCode,
      )
    } else if (c.req.header('authorization') !== expectedAuth) {
      refused = c.json(authenticationFailed(), 401)
    } else {
      await next()
    }
    requests.push({
      method: c.req.method,
      path: c.req.path,
      headers,
      body,
      status: (refused ?? c.res).status,
    })
    return refused
  })

  app.post('/v1/orders', async (c: Context) => {
    let body: unknown
    try {
      body = await c.req.json()
    } catch {
      return c.json(razorpayError('The request body is not valid JSON'), 400)
    }
    const problem = orderProblem(body)
    if (problem) return c.json(problem, 400)
    const input = body as {
      amount: number
      currency: string
      receipt?: string
      notes?: Record<string, string>
    }
    const notes: FakeOrder['notes'] =
      input.notes && Object.keys(input.notes).length > 0 ? input.notes : []
    const order: FakeOrder = {
      id: razorpayId('order'),
      entity: 'order',
      amount: input.amount,
      amount_paid: 0,
      amount_due: input.amount,
      currency: input.currency,
      receipt: input.receipt ?? null,
      offer_id: null,
      status: 'created',
      attempts: 0,
      notes,
      created_at: unixNow(),
    }
    orders.set(order.id, order)
    return c.json(order)
  })

  app.get('/v1/orders/:id', (c) => {
    const order = orders.get(c.req.param('id'))
    if (!order) return c.json(razorpayError('The id provided does not exist', 'id'), 400)
    return c.json(order)
  })

  app.get('/v1/payments/:id', (c) => {
    const payment = payments.get(c.req.param('id'))
    if (!payment) return c.json(razorpayError('The id provided does not exist', 'id'), 400)
    return c.json(payment)
  })

  app.post('/v1/payments/:id/refund', async (c) => {
    const raw = await c.req.text()
    let body: { amount?: unknown; notes?: unknown; receipt?: unknown; speed?: unknown }
    try {
      body = raw === '' ? {} : (JSON.parse(raw) as typeof body)
    } catch {
      return c.json(razorpayError('The request body is not valid JSON'), 400)
    }
    const key = c.req.header('x-refund-idempotency')
    const replay = key === undefined ? undefined : refundKeys.get(key)
    if (replay) {
      if (replay.body !== `${c.req.param('id')} ${raw}`) {
        return c.json(razorpayError('The idempotency key was used with a different request'), 400)
      }
      return c.json(replay.refund)
    }
    const payment = payments.get(c.req.param('id'))
    if (!payment) return c.json(razorpayError('The id provided does not exist', 'id'), 400)
    if (payment.status !== 'captured') {
      return c.json(razorpayError('The payment has not been captured', 'payment_id'), 400)
    }
    const refunded = [...refunds.values()]
      .filter((r) => r.payment_id === payment.id && r.status !== 'failed')
      .reduce((sum, r) => sum + r.amount, 0)
    const amount = body.amount === undefined ? payment.amount - refunded : body.amount
    if (typeof amount !== 'number' || !Number.isInteger(amount) || amount < 100) {
      return c.json(razorpayError('The amount must be atleast INR 1.00', 'amount'), 400)
    }
    if (amount > payment.amount - refunded) {
      return c.json(
        razorpayError('The refund amount provided is greater than amount captured', 'amount'),
        400,
      )
    }
    const refund: FakeRefund = {
      id: razorpayId('rfnd'),
      entity: 'refund',
      amount,
      currency: payment.currency,
      payment_id: payment.id,
      notes:
        typeof body.notes === 'object' && body.notes !== null && Object.keys(body.notes).length > 0
          ? (body.notes as Record<string, string>)
          : [],
      receipt: typeof body.receipt === 'string' ? body.receipt : null,
      acquirer_data: { arn: null },
      created_at: unixNow(),
      batch_id: null,
      status: 'processed',
      speed_processed: 'normal',
      speed_requested: 'normal',
    }
    refunds.set(refund.id, refund)
    if (key !== undefined) refundKeys.set(key, { body: `${c.req.param('id')} ${raw}`, refund })
    return c.json(refund)
  })

  const server = await serveOnNode((request) => app.fetch(request))

  const orderFor = (orderId: string, amount?: number, currency?: string): FakeOrder => {
    const known = orders.get(orderId)
    if (known) return known
    if (amount === undefined)
      throw new Error(`fake Razorpay: unknown order ${orderId} (pass amount)`)
    // An order made outside the fake (e.g. straight in SQL): known from now on.
    const order: FakeOrder = {
      id: orderId,
      entity: 'order',
      amount,
      amount_paid: 0,
      amount_due: amount,
      currency: (currency ?? 'USD').toUpperCase(),
      receipt: null,
      offer_id: null,
      status: 'created',
      attempts: 0,
      notes: [],
      created_at: unixNow(),
    }
    orders.set(orderId, order)
    return order
  }

  const pay: FakeRazorpay['pay'] = (orderId, payOptions = {}) => {
    const order = orderFor(orderId, payOptions.amount, payOptions.currency)
    const paymentId = payOptions.paymentId ?? razorpayId('pay')
    order.attempts += 1
    order.amount_paid = order.amount
    order.amount_due = 0
    order.status = 'paid'
    payments.set(paymentId, {
      id: paymentId,
      entity: 'payment',
      order_id: order.id,
      amount: order.amount,
      currency: order.currency,
      status: 'captured',
      method: 'card',
      captured: true,
      created_at: unixNow(),
    })
    return {
      razorpay_order_id: order.id,
      razorpay_payment_id: paymentId,
      razorpay_signature: signHex(`${order.id}|${paymentId}`, keySecret),
    }
  }

  const lastPaymentOf = (orderId: string): string | undefined =>
    [...payments.values()].filter((payment) => payment.order_id === orderId).at(-1)?.id

  const webhook: FakeRazorpay['webhook'] = (event, hook) => {
    const order = orderFor(hook.orderId, hook.amount, hook.currency)
    const envelope = razorpayWebhookEvent(event, {
      orderId: order.id,
      paymentId: hook.paymentId ?? lastPaymentOf(order.id) ?? razorpayId('pay'),
      amount: hook.amount ?? order.amount,
      currency: hook.currency ?? order.currency,
      createdAt: hook.createdAt ?? unixNow(),
      accountId,
      order,
    })
    return signWebhook(envelope, hook.secret ?? webhookSecret, hook.eventId)
  }

  return {
    url: server.url,
    keyId,
    keySecret,
    webhookSecret,
    env: {
      RAZORPAY_KEY_ID: keyId,
      RAZORPAY_KEY_SECRET: keySecret,
      RAZORPAY_WEBHOOK_SECRET: webhookSecret,
      RAZORPAY_API_BASE: server.url,
    },
    app,
    fetch: ((input: string | URL | Request, init?: RequestInit) =>
      Promise.resolve(app.request(input, init))) as typeof fetch,
    requests,
    orders,
    payments,
    failNext: (status, times = 1) => {
      for (let i = 0; i < times; i += 1) failures.push(status)
    },
    pay,
    webhook,
    refunds,
    refundWebhook: (event, refundId, hook = {}) => {
      const refund = refunds.get(refundId)
      if (!refund) throw new Error(`fake Razorpay: unknown refund ${refundId}`)
      const status = event === 'refund.created' ? 'pending' : event === 'refund.processed' ? 'processed' : 'failed'
      const payment = payments.get(refund.payment_id)
      const payload = {
        refund: { entity: { ...refund, status } },
        ...(payment ? { payment: { entity: { ...payment } } } : {}),
      }
      return signWebhook(
        {
          entity: 'event',
          account_id: accountId,
          event,
          contains: Object.keys(payload),
          payload,
          created_at: hook.createdAt ?? unixNow(),
        },
        webhookSecret,
        hook.eventId,
      )
    },
    close: server.close,
  }
}
