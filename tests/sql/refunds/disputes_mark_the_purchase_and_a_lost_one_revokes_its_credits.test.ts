import { describe, expect } from 'vitest'
import { withRollback } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'
import { applyStripe, disputeObject, notificationsOf, paidPurchase, purchaseState } from './support.ts'

const disputeAudits = (tx: any, id: string) =>
  tx`select new_values ->> 'dispute_status' as status, reason from tollgate_private.audit_log
     where record_id = ${id} and new_values ? 'dispute_id' order by id`

describe('disputes of a purchase', () => {
  it('opened: disputed, audited and notified once; won: paid again with its credits', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const purchase = await paidPurchase(tx, user.id)
      const dispute = disputeObject(purchase.paymentId, 1000, 'needs_response')
      const at = Math.floor(Date.now() / 1000)

      await applyStripe(tx, 'charge.dispute.created', dispute, { created: at })
      await applyStripe(tx, 'charge.dispute.updated', { ...dispute, status: 'under_review' }, { created: at + 1 })
      expect(await purchaseState(tx, purchase.id)).toMatchObject({ status: 'disputed', remaining: 50000 })
      expect(await notificationsOf(tx, user.id, 'dispute_opened')).toHaveLength(1)

      await applyStripe(tx, 'charge.dispute.closed', { ...dispute, status: 'won' }, { created: at + 2 })
      expect(await purchaseState(tx, purchase.id)).toEqual({
        status: 'paid', amount_refunded: 0, granted: 50000, remaining: 50000, revoked: false,
      })
      const audits = await disputeAudits(tx, purchase.id)
      expect(audits.map((a: any) => a.status)).toEqual(['needs_response', 'won'])
    })
  })

  it('lost: counts as refunded, its unused credits revoked and the loss audited', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const purchase = await paidPurchase(tx, user.id)
      await tx`update tollgate.credit_balances set remaining = 10000 where id = ${purchase.grantId}`
      const dispute = disputeObject(purchase.paymentId, 1000, 'needs_response')
      const at = Math.floor(Date.now() / 1000)

      await applyStripe(tx, 'charge.dispute.created', dispute, { created: at })
      await applyStripe(tx, 'charge.dispute.closed', { ...dispute, status: 'lost' }, { created: at + 5 })
      // A late copy of the opening changes nothing.
      const late = await applyStripe(tx, 'charge.dispute.created', dispute, { created: at })

      expect(late.outcome).toBe('stale')
      expect(await purchaseState(tx, purchase.id)).toEqual({
        status: 'refunded', amount_refunded: 1000, granted: 50000, remaining: 0, revoked: true,
      })
      const audits = await disputeAudits(tx, purchase.id)
      expect(audits.map((a: any) => a.status)).toEqual(['needs_response', 'lost'])
      expect(audits[1].reason).toMatch(/lost/)
      // The buyer heard of the opening once and of the loss (their money back) once.
      await applyStripe(tx, 'charge.dispute.closed', { ...dispute, status: 'lost' }, { created: at + 5 })
      const notices = await tx`
        select kind, data ->> 'outcome' as outcome from tollgate.notifications
        where user_id = ${user.id} and kind in ('dispute_opened', 'payment_refunded') order by created_at, kind`
      expect(notices).toEqual([
        { kind: 'dispute_opened', outcome: null },
        { kind: 'payment_refunded', outcome: 'dispute_lost' },
      ])
    })
  })

  it('finds the payment through the charge when the dispute names only the charge', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const purchase = await paidPurchase(tx, user.id)
      const chargeId = 'ch_' + purchase.paymentId.slice(3)
      await tx`insert into tollgate_private.provider_refs (provider, object_type, provider_id, local_id, user_id, parent_id)
        values ('stripe', 'charge', ${chargeId}, ${purchase.id}, ${user.id}, ${purchase.paymentId})`
      await applyStripe(tx, 'charge.dispute.created', { ...disputeObject(purchase.paymentId, 1000, 'needs_response', { charge: chargeId }), payment_intent: null })
      expect(await purchaseState(tx, purchase.id)).toMatchObject({ status: 'disputed' })
    })
  })
})
