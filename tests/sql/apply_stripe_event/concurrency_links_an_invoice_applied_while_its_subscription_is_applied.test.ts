import { afterAll, describe, expect, it } from 'vitest'
import { createUser, ownerSql } from '../../helpers/db.ts'
import { makeStripeEvent } from '../../helpers/stripe/events.ts'
import { invoiceFixture, newWorld, subscriptionFixture } from '../../helpers/stripe/fixtures.ts'
import { beginSession, waitingOrFinished } from '../consume_usage/support.ts'
import { applyEvent } from './support.ts'

const sql = ownerSql()
const other = ownerSql({ max: 1 })
afterAll(() => Promise.all([sql.end(), other.end()]))

describe('apply_stripe_event with an invoice and its subscription applied at once', () => {
  it('waits for the subscription in flight, then links the invoice to it', async () => {
    const world = newWorld((await createUser(sql)).id)
    const created = makeStripeEvent('customer.subscription.created', subscriptionFixture(world))
    const paid = makeStripeEvent('invoice.paid', invoiceFixture(world))

    // The subscription's first event, applied and not yet committed.
    const subscription = await beginSession(sql)
    const first = await applyEvent(subscription.q, created)
    expect(first).toMatchObject({ outcome: 'applied' })

    // The invoice, from another connection, meanwhile.
    const [backend] = await other<{ pid: number }[]>`select pg_catalog.pg_backend_pid() as pid`
    const invoice = applyEvent(other, paid)
    const state = await waitingOrFinished(sql, backend?.pid ?? -1, invoice)
    await subscription.end('commit')
    expect(await invoice).toMatchObject({ outcome: 'applied', user_id: world.userId })
    expect(state).toBe('waiting')

    expect(
      await sql`select subscription_id from tollgate.invoices where user_id = ${world.userId}`,
    ).toEqual([{ subscription_id: first.subscription_id }])
  })
})
