import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { pgError, withRollback } from '../../helpers/db.ts'
import { countersOf, insertSubscription, readSubscription, setStatus } from './support.ts'

describe('subscriptions_one_live_per_user', () => {
  it.for(['trialing', 'active', 'past_due', 'unpaid', 'paused'])(
    'refuses a second live subscription (%s) beside an active one (23505)',
    async (status, { sql, user }) => {
      await withRollback(sql, async (tx) => {
        const first = await insertSubscription(tx, user.id, { planId: 'pro' })
        const error = await pgError(
          tx.savepoint((sp) => insertSubscription(sp, user.id, { planId: 'enterprise', status })),
        )
        expect(error.code).toBe('23505')
        expect(error.constraint_name).toBe('subscriptions_one_live_per_user')
        const [row] = await tx<{ n: number }[]>`
          select count(*)::int as n from tollgate.subscriptions where user_id = ${user.id}::uuid`
        expect(row?.n).toBe(1)
        expect(await readSubscription(tx, first.id)).toMatchObject({
          plan_id: 'pro',
          status: 'active',
        })
      })
    },
  )

  it('accepts a new subscription once the first is canceled, and follows the new one', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const first = await insertSubscription(tx, user.id, { planId: 'pro' })
      await setStatus(tx, first.id, 'canceled')
      const second = await insertSubscription(tx, user.id, { planId: 'enterprise' })
      expect(await readSubscription(tx, second.id)).toMatchObject({
        plan_id: 'enterprise',
        status: 'active',
      })
      expect(await countersOf(tx, user.id)).toMatchObject({
        projects: { plan_id: 'enterprise', quota: '-1' },
      })
    })
  })

  it.for(['incomplete', 'incomplete_expired'])(
    'accepts %s subscriptions (never paid) beside the live one',
    async (status, { sql, user }) => {
      await withRollback(sql, async (tx) => {
        await insertSubscription(tx, user.id, { planId: 'pro' })
        await insertSubscription(tx, user.id, { planId: 'enterprise', status })
        expect(await countersOf(tx, user.id)).toMatchObject({
          projects: { plan_id: 'pro', quota: '100' },
        })
      })
    },
  )

  it('refuses reviving a canceled subscription while another is live (23505)', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const first = await insertSubscription(tx, user.id, { planId: 'pro' })
      await setStatus(tx, first.id, 'canceled')
      await insertSubscription(tx, user.id, { planId: 'enterprise' })
      const error = await pgError(tx.savepoint((sp) => setStatus(sp, first.id, 'active')))
      expect(error.code).toBe('23505')
      expect(await readSubscription(tx, first.id)).toMatchObject({ status: 'canceled' })
    })
  })
})
