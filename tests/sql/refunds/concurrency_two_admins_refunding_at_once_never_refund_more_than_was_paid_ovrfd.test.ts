import { describe, expect } from 'vitest'
import { pgError } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'
import { beginSession, waitUntilBlocked } from '../consume_usage/support.ts'
import { applyStripe, paidPurchase, refundObject } from './support.ts'

describe('concurrent refunds of one purchase', () => {
  it('a second admin request waits for the first and is refused what is no longer left (OVRFD)', async ({ sql, users }) => {
    const buyer = await users.create()
    const admin = await users.create({ admin: true })
    const purchase = await sql.begin((tx) => paidPurchase(tx, buyer.id))
    const a = await beginSession(sql)
    const b = await beginSession(sql)
    try {
      await a.q`select tollgate_private.prepare_admin_refund(${admin.id}, null, ${purchase.id}, 600, 'first', null)`
      const second = pgError(
        b.q`select tollgate_private.prepare_admin_refund(${admin.id}, null, ${purchase.id}, 600, 'second', null)`,
      )
      await waitUntilBlocked(sql, b.pid)
      await a.end('commit')
      expect(await second).toHaveProperty('code', 'OVRFD')
    } finally {
      await a.end('rollback').catch(() => undefined)
      await b.end('rollback').catch(() => undefined)
    }
    const [{ n }] = await sql`select count(*)::int as n from tollgate_private.refund_requests where purchase_id = ${purchase.id}`
    expect(n).toBe(1)
  })

  it('two deliveries of one refund at once (refund.created and refund.updated) count it once', async ({ sql, users }) => {
    const buyer = await users.create()
    const purchase = await sql.begin((tx) => paidPurchase(tx, buyer.id))
    const refund = refundObject(purchase.paymentId, 700, 'succeeded')
    const at = Math.floor(Date.now() / 1000)
    const a = await beginSession(sql)
    const b = await beginSession(sql)
    try {
      await applyStripe(a.q, 'refund.created', refund, { created: at })
      const second = applyStripe(b.q, 'refund.updated', refund, { created: at + 1 })
      await waitUntilBlocked(sql, b.pid)
      await a.end('commit')
      await second
      await b.end('commit')
    } finally {
      await a.end('rollback').catch(() => undefined)
      await b.end('rollback').catch(() => undefined)
    }
    const [row] = await sql`select status, amount_refunded::int from tollgate.purchases where id = ${purchase.id}`
    expect(row).toEqual({ status: 'partially_refunded', amount_refunded: 700 })
  })
})
