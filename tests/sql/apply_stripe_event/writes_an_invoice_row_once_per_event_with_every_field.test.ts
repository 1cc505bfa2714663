import { afterAll, describe, expect, it } from 'vitest'
import { createUser, ownerSql, type Tx, withRollback } from '../../helpers/db.ts'
import { makeStripeEvent } from '../../helpers/stripe/events.ts'
import {
  invoiceFixture,
  MONTH,
  newWorld,
  nowSeconds,
  subscriptionFixture,
} from '../../helpers/stripe/fixtures.ts'
import { applyEvent, tableWrites } from './support.ts'

const sql = ownerSql()
afterAll(() => sql.end())

const T = nowSeconds() - 3600

const invoiceWrites = (tx: Tx) => tableWrites(tx, 'tollgate.invoices')

const invoiceRow = async (tx: Tx, id: string) => {
  const [row] = await tx`
    select user_id, subscription_id, provider, number, status, currency, amount_due::int,
      amount_paid::int, extract(epoch from period_start)::int as period_start,
      extract(epoch from period_end)::int as period_end, hosted_invoice_url, invoice_pdf,
      extract(epoch from paid_at)::int as paid_at,
      extract(epoch from created_at)::int as created_at,
      updated_at = now() as updated_now
    from tollgate.invoices where id = ${id}::uuid`
  return row
}

describe('apply_stripe_event with invoice events', () => {
  it('inserts a new invoice whole in one write, then updates it in one write', async () => {
    await withRollback(sql, async (tx) => {
      const user = await createUser(tx)
      const world = newWorld(user.id)
      const sub = await applyEvent(
        tx,
        makeStripeEvent(
          'customer.subscription.created',
          subscriptionFixture(world, { periodStart: T }),
          { created: T },
        ),
      )
      const open = invoiceFixture(world, {
        status: 'open',
        amountDue: 2900,
        currency: 'EUR',
        periodStart: T,
        periodEnd: T + MONTH,
        created: T + 5,
      })
      const before = await invoiceWrites(tx)
      const first = await applyEvent(
        tx,
        makeStripeEvent('invoice.finalized', open, { created: T + 10 }),
      )
      expect(first).toMatchObject({ outcome: 'applied', user_id: user.id })
      const afterInsert = await invoiceWrites(tx)
      expect({
        inserted: (afterInsert?.inserted ?? 0) - (before?.inserted ?? 0),
        updated: (afterInsert?.updated ?? 0) - (before?.updated ?? 0),
      }).toEqual({ inserted: 1, updated: 0 })
      expect(await invoiceRow(tx, first.invoice_id ?? '')).toEqual({
        user_id: user.id,
        subscription_id: sub.subscription_id,
        provider: 'stripe',
        number: open.number,
        status: 'open',
        currency: 'eur',
        amount_due: 2900,
        amount_paid: 0,
        period_start: T,
        period_end: T + MONTH,
        hosted_invoice_url: open.hosted_invoice_url,
        invoice_pdf: open.invoice_pdf,
        paid_at: null,
        created_at: T + 5,
        updated_now: true,
      })

      // Paid later; this snapshot names no currency: the stored one stays.
      const paid = invoiceFixture(world, {
        id: open.id,
        status: 'paid',
        amountDue: 2900,
        periodStart: T,
        periodEnd: T + MONTH,
        created: T + 5,
      })
      delete paid.currency
      paid.status_transitions.paid_at = T + 20
      const second = await applyEvent(
        tx,
        makeStripeEvent('invoice.paid', paid, { created: T + 20 }),
      )
      expect(second).toMatchObject({ outcome: 'applied', invoice_id: first.invoice_id })
      const afterUpdate = await invoiceWrites(tx)
      expect({
        inserted: (afterUpdate?.inserted ?? 0) - (afterInsert?.inserted ?? 0),
        updated: (afterUpdate?.updated ?? 0) - (afterInsert?.updated ?? 0),
      }).toEqual({ inserted: 0, updated: 1 })
      expect(await invoiceRow(tx, first.invoice_id ?? '')).toMatchObject({
        subscription_id: sub.subscription_id,
        status: 'paid',
        currency: 'eur',
        amount_due: 2900,
        amount_paid: 2900,
        paid_at: T + 20,
        created_at: T + 5,
      })
    })
  })

  it('inserts an invoice seen before its subscription unlinked, in usd without a currency', async () => {
    await withRollback(sql, async (tx) => {
      const user = await createUser(tx)
      const world = newWorld(user.id)
      const invoice = invoiceFixture(world, { periodStart: T, periodEnd: T + MONTH, created: T })
      delete invoice.currency
      const applied = await applyEvent(
        tx,
        makeStripeEvent('invoice.paid', invoice, { created: T + 1 }),
      )
      expect(applied).toMatchObject({ outcome: 'applied', user_id: user.id })
      expect(await invoiceRow(tx, applied.invoice_id ?? '')).toMatchObject({
        subscription_id: null,
        status: 'paid',
        currency: 'usd',
        amount_paid: 2900,
        paid_at: T,
        period_start: T,
        period_end: T + MONTH,
      })
    })
  })
})
