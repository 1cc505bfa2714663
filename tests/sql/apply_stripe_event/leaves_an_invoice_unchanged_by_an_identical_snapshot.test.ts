import { afterAll, describe, expect, it } from 'vitest'
import { createUser, ownerSql, type Tx, withRollback } from '../../helpers/db.ts'
import { makeStripeEvent } from '../../helpers/stripe/events.ts'
import { invoiceFixture, MONTH, newWorld, nowSeconds } from '../../helpers/stripe/fixtures.ts'
import { applyEvent, tableWrites } from './support.ts'

const sql = ownerSql()
afterAll(() => sql.end())

const T = nowSeconds() - 3600

const invoiceUpdates = async (tx: Tx) => (await tableWrites(tx, 'tollgate.invoices')).updated

describe('apply_stripe_event with a later event for a known invoice', () => {
  it('writes nothing when the snapshot is the same (invoice.paid, then invoice.payment_succeeded)', async () => {
    await withRollback(sql, async (tx) => {
      const world = newWorld((await createUser(tx)).id)
      const paid = invoiceFixture(world, { periodStart: T, periodEnd: T + MONTH, created: T })
      const first = await applyEvent(tx, makeStripeEvent('invoice.paid', paid, { created: T + 1 }))
      const before = await invoiceUpdates(tx)
      const second = await applyEvent(
        tx,
        makeStripeEvent('invoice.payment_succeeded', paid, { created: T + 2 }),
      )
      expect(second).toMatchObject({ outcome: 'applied', invoice_id: first.invoice_id })
      expect((await invoiceUpdates(tx)) - before).toBe(0)

      // A snapshot that changes a field is still written, once.
      const voided = { ...paid, status: 'void' }
      await applyEvent(tx, makeStripeEvent('invoice.voided', voided, { created: T + 3 }))
      expect((await invoiceUpdates(tx)) - before).toBe(1)
      const [row] = await tx`select status from tollgate.invoices where id = ${first.invoice_id ?? ''}::uuid`
      expect(row).toEqual({ status: 'void' })
    })
  })
  // Stripe stamps invoice.finalized and invoice.paid of a first payment with one second; the
  // watermark orders such a tie by event id, which Stripe draws at random.
  for (const paidFirst of [true, false]) {
    it(`ends paid when invoice.finalized and invoice.paid of one second arrive ${paidFirst ? 'paid first' : 'finalized first'}, whatever their ids`, async () => {
      await withRollback(sql, async (tx) => {
        const world = newWorld((await createUser(tx)).id)
        const id = `in_${'same_second'.padEnd(14, 'x')}`
        const paid = invoiceFixture(world, { id, periodStart: T, periodEnd: T + MONTH, created: T })
        const open = invoiceFixture(world, { id, status: 'open', periodStart: T, periodEnd: T + MONTH, created: T })
        // The ids give the tie-break the wrong answer each time: finalized is the newer by its id.
        const events = paidFirst
          ? [makeStripeEvent('invoice.paid', paid, { created: T + 1, id: 'evt_1_paid' }),
             makeStripeEvent('invoice.finalized', open, { created: T + 1, id: 'evt_2_finalized' })]
          : [makeStripeEvent('invoice.finalized', open, { created: T + 1, id: 'evt_2_finalized' }),
             makeStripeEvent('invoice.paid', paid, { created: T + 1, id: 'evt_1_paid' })]
        const first = await applyEvent(tx, events[0]!)
        const second = await applyEvent(tx, events[1]!)
        expect(second).toMatchObject({ outcome: 'applied' })
        const [row] = await tx`select status, amount_paid from tollgate.invoices where id = ${first.invoice_id ?? ''}::uuid`
        expect(row).toEqual({ status: 'paid', amount_paid: '2900' })
      })
    })
  }
})
