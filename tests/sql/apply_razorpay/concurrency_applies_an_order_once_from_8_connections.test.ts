import { afterAll, describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { razorpayId } from '../../helpers/fake-razorpay.ts'
import { type Queryable, type Sql } from '../../helpers/db.ts'
import {
  beginSession,
  openConnections,
  taggedPool,
  waitForLockWaiters,
} from '../consume_usage/support.ts'
import {
  applyEvent,
  checkoutOrder,
  eventFor,
  invoicesOf,
  ledgerOf,
  subscriptionsOf,
  verifyPayment,
  type ApplyResult,
  type TestOrder,
} from './support.ts'

const workers = taggedPool(16)
afterAll(() => workers.sql.end())

const CONNECTIONS = 8
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

// Half verify-payment, half webhooks (payment.captured and order.paid, each with its own event id).
const applier = (userId: string, order: TestOrder, paymentId: string, i: number) => {
  const eventId = razorpayId('')
  return {
    eventId: i % 2 === 0 ? null : eventId,
    run: async (q: Queryable): Promise<ApplyResult> =>
      i % 2 === 0
        ? verifyPayment(q, userId, order.orderId, { paymentId })
        : applyEvent(
            q,
            eventId,
            await eventFor(q, i % 4 === 1 ? 'payment.captured' : 'order.paid', order, {
              paymentId,
            }),
          ),
  }
}

const committedOrder = async (sql: Sql, userId: string): Promise<TestOrder> =>
  sql.begin((tx) => checkoutOrder(tx, userId))

const expectAppliedOnce = async (
  sql: Sql,
  userId: string,
  results: ApplyResult[],
  eventIds: string[],
) => {
  // Only the call that applied the order made an invoice; all the others found it applied.
  expect(results.filter((result) => result.invoice_id !== undefined)).toHaveLength(1)
  const subscriptions = await subscriptionsOf(sql, userId)
  expect(subscriptions).toMatchObject([{ plan_id: 'pro', status: 'active', provider: 'razorpay' }])
  for (const result of results) expect(result.subscription_id).toBe(subscriptions[0]?.id)
  expect(await invoicesOf(sql, userId)).toMatchObject([{ status: 'paid', amount_paid: '2900' }])
  for (const eventId of eventIds) {
    expect(await ledgerOf(sql, eventId)).toMatchObject({
      outcome: 'applied',
      processed: true,
      attempts: 1,
    })
  }
}

describe('one Razorpay order applied from 8 connections at once', () => {
  it('applies once when verify-payment and webhooks race (burst of 8 transactions)', async ({
    sql,
    user,
  }) => {
    const order = await committedOrder(sql, user.id)
    const paymentId = razorpayId('pay')
    const appliers = range(CONNECTIONS).map((i) => applier(user.id, order, paymentId, i))
    await openConnections(workers.sql, CONNECTIONS)

    const results = await Promise.all(appliers.map((one) => workers.sql.begin((tx) => one.run(tx))))

    await expectAppliedOnce(
      sql,
      user.id,
      results,
      appliers.flatMap((one) => (one.eventId ? [one.eventId] : [])),
    )
  })

  it('makes 7 connections wait for the first, which applies; they then change nothing', async ({
    sql,
    user,
  }) => {
    const order = await committedOrder(sql, user.id)
    const paymentId = razorpayId('pay')
    const appliers = range(CONNECTIONS).map((i) => applier(user.id, order, paymentId, i))
    const sessions = await Promise.all(appliers.map(() => beginSession(workers.sql)))
    const [first, ...others] = sessions
    if (!first) throw new Error('no session')

    const firstResult = await appliers[0]!.run(first.q)
    expect(firstResult).toMatchObject({ outcome: 'applied', invoice_id: expect.any(String) })
    // Each commits as soon as it has its answer: the order row lock passes from one to the next.
    const waiting = others.map(async (session, i) => {
      const result = await appliers[i + 1]!.run(session.q)
      await session.end('commit')
      return result
    })
    await waitForLockWaiters(sql, workers.tag, CONNECTIONS - 1)
    await first.end('commit')
    const otherResults = await Promise.all(waiting)

    for (const result of otherResults) expect(result).not.toHaveProperty('invoice_id')
    await expectAppliedOnce(
      sql,
      user.id,
      [firstResult, ...otherResults],
      appliers.flatMap((one) => (one.eventId ? [one.eventId] : [])),
    )
  })

  it('applies the same event id delivered on 8 connections at once once, counting 8 attempts', async ({
    sql,
    user,
  }) => {
    const order = await committedOrder(sql, user.id)
    const eventId = razorpayId('')
    const event = await eventFor(sql, 'payment.captured', order)
    await openConnections(workers.sql, CONNECTIONS)

    const results = await Promise.all(
      range(CONNECTIONS).map(() => workers.sql.begin((tx) => applyEvent(tx, eventId, event))),
    )

    expect(results.filter((result) => result.outcome === 'applied')).toHaveLength(1)
    expect(results.filter((result) => result.outcome === 'duplicate')).toHaveLength(CONNECTIONS - 1)
    expect(await subscriptionsOf(sql, user.id)).toMatchObject([
      { plan_id: 'pro', status: 'active' },
    ])
    expect(await invoicesOf(sql, user.id)).toHaveLength(1)
    expect(await ledgerOf(sql, eventId)).toMatchObject({
      outcome: 'applied',
      processed: true,
      attempts: CONNECTIONS,
    })
  })
})
