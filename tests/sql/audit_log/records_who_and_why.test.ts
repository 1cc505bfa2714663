import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { serviceRoleClaims, withRollback, type Tx } from '../../helpers/db.ts'
import { insertSubscription, setStatus } from '../subscriptions/support.ts'
import { auditOf } from './support.ts'

// Clients cannot write subscriptions: the owner writes on their behalf inside their request,
// so the JWT claims are set while the role stays the owner.
const setClaims = async (tx: Tx, claims: object): Promise<void> => {
  await tx`select pg_catalog.set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`
}

const setReason = async (tx: Tx, reason: string): Promise<void> => {
  await tx`select pg_catalog.set_config('tollgate.audit_reason', ${reason}, true)`
}

describe('the audit actor and reason', () => {
  it('records auth.uid() and the JWT role when the change happens inside a user request', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      await setClaims(tx, user.claims)
      const sub = await insertSubscription(tx, user.id, { planId: 'pro' })
      await setStatus(tx, sub.id, 'canceled')
      const rows = await auditOf(tx, sub.id)
      expect(rows.map((r) => [r.action, r.actor_user_id, r.actor_role])).toEqual([
        ['insert', user.id, 'authenticated'],
        ['update', user.id, 'authenticated'],
      ])
    })
  })

  it('records the acting admin, not the subscriber', async ({ sql, user, admin }) => {
    await withRollback(sql, async (tx) => {
      await setClaims(tx, admin.claims)
      const sub = await insertSubscription(tx, user.id, { planId: 'pro' })
      expect(await auditOf(tx, sub.id)).toMatchObject([
        { user_id: user.id, actor_user_id: admin.id, actor_role: 'authenticated' },
      ])
    })
  })

  it('records service_role and no user for a service role request', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      await setClaims(tx, serviceRoleClaims())
      const sub = await insertSubscription(tx, user.id, { planId: 'pro' })
      expect(await auditOf(tx, sub.id)).toMatchObject([
        { user_id: user.id, actor_user_id: null, actor_role: 'service_role' },
      ])
    })
  })

  it('records the reason set in tollgate.audit_reason', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      await setReason(tx, 'stripe:evt_1')
      const sub = await insertSubscription(tx, user.id, { planId: 'pro' })
      await setReason(tx, 'stripe:evt_2')
      await setStatus(tx, sub.id, 'past_due')
      await setReason(tx, '')
      await setStatus(tx, sub.id, 'active')
      const rows = await auditOf(tx, sub.id)
      expect(rows.map((r) => [r.action, r.new_values?.status, r.reason])).toEqual([
        ['insert', 'active', 'stripe:evt_1'],
        ['update', 'past_due', 'stripe:evt_2'],
        ['update', 'active', null],
      ])
    })
  })
})
