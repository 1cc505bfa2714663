import { describe, expect } from 'vitest'
import { withRollback } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'
import { invoiceFixture, newWorld } from '../../helpers/stripe/fixtures.ts'
import { stripeId } from '../../helpers/stripe/events.ts'
import { applyStripe, paidInvoice, refundObject } from './support.ts'

const amountRefunded = async (tx: any, invoiceId: string): Promise<number> => {
  const [row] = await tx`select amount_refunded::int as n from tollgate.invoices where id = ${invoiceId}`
  return row.n
}

describe('refunds of a Stripe invoice', () => {
  it('partial then full refunds move amount_refunded up to amount_paid, once each', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const invoice = await paidInvoice(tx, user.id, 2900)
      const first = refundObject(invoice.paymentId, 900, 'succeeded')
      await applyStripe(tx, 'refund.created', first)
      await applyStripe(tx, 'refund.updated', first)
      expect(await amountRefunded(tx, invoice.id)).toBe(900)
      await applyStripe(tx, 'refund.created', refundObject(invoice.paymentId, 2000, 'succeeded'))
      expect(await amountRefunded(tx, invoice.id)).toBe(2900)
      const [row] = await tx`select status from tollgate.invoices where id = ${invoice.id}`
      expect(row!.status).toBe('paid')
    })
  })

  it('an invoice.paid event records the payment intent that paid it (payment_intent before basil)', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const world = newWorld(user.id)
      await tx`insert into tollgate_private.customers (user_id, provider, provider_customer_id)
        values (${user.id}, 'stripe', ${world.customerId}) on conflict do nothing`
      const paymentIntent = stripeId('pi')
      const invoice = { ...invoiceFixture(world, { amountPaid: 2900 }), payment_intent: paymentIntent }
      const applied = await applyStripe(tx, 'invoice.paid', invoice)
      expect(applied.outcome).toBe('applied')

      await applyStripe(tx, 'refund.created', refundObject(paymentIntent, 1000, 'succeeded'))

      expect(await amountRefunded(tx, applied.invoice_id)).toBe(1000)
    })
  })

  it('since basil, the paid entry of invoice.payments or an invoice_payment.paid event links it', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const world = newWorld(user.id)
      await tx`insert into tollgate_private.customers (user_id, provider, provider_customer_id)
        values (${user.id}, 'stripe', ${world.customerId}) on conflict do nothing`
      const listed = stripeId('pi')
      const withList = {
        ...invoiceFixture(world, { amountPaid: 2900 }),
        payments: { object: 'list', data: [{ id: stripeId('inpay'), object: 'invoice_payment', status: 'paid', payment: { type: 'payment_intent', payment_intent: listed } }] },
      }
      const a = await applyStripe(tx, 'invoice.paid', withList)
      const bare = invoiceFixture(world, { amountPaid: 2900 })
      const b = await applyStripe(tx, 'invoice.paid', bare)
      const viaEvent = stripeId('pi')
      await applyStripe(tx, 'invoice_payment.paid', {
        id: stripeId('inpay'), object: 'invoice_payment', amount_paid: 2900, currency: 'usd', invoice: bare.id,
        is_default: true, status: 'paid', payment: { type: 'payment_intent', payment_intent: viaEvent },
      })

      await applyStripe(tx, 'refund.created', refundObject(listed, 100, 'succeeded'))
      await applyStripe(tx, 'refund.created', refundObject(viaEvent, 200, 'succeeded'))

      expect(await amountRefunded(tx, a.invoice_id)).toBe(100)
      expect(await amountRefunded(tx, b.invoice_id)).toBe(200)
    })
  })
})
