import { describe, expect } from 'vitest'
import { invoice, it } from './support.ts'

describe('myInvoices()', () => {
  it('is empty for a user never billed', async ({ stack }) => {
    const { tollgate } = await stack.signIn()
    expect(await tollgate.myInvoices()).toEqual([])
  })

  it('answers the caller’s invoices newest first, whatever order they were written in', async ({
    stack,
  }) => {
    const caller = await stack.signIn()
    const other = await stack.signIn()
    const month = await invoice(stack.sql, caller.id, '30 days')
    const today = await invoice(stack.sql, caller.id, '1 hour')
    const year = await invoice(stack.sql, caller.id, '365 days')
    const week = await invoice(stack.sql, caller.id, '7 days')
    await invoice(stack.sql, other.id, '2 hours')

    const invoices = await caller.tollgate.myInvoices()

    expect(invoices.map((row) => row.id)).toEqual([today, week, month, year])
    expect(invoices[0]).toMatchObject({
      user_id: caller.id,
      status: 'paid',
      currency: 'usd',
      amount_due: 2900,
      amount_paid: 2900,
      provider: 'internal',
    })
  })
})
