import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback } from '../../helpers/db.ts'
import { clock, consume, insertSubscription, setStatus, usageAs } from './support.ts'

describe('a never-resetting gauge (projects)', () => {
  it('keeps its count through free -> pro -> enterprise -> free', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      expect(await consume(tx, user.id, 'projects', 2)).toMatchObject({
        allowed: true,
        used: 2,
        quota: 3,
        remaining: 1,
      })
      const t = await clock(tx)
      const projects = async () => (await usageAs(tx, user)).find((r) => r.metric === 'projects')
      const gauge = { metric: 'projects', period: 'never', period_start: t.now, period_end: null }

      const sub = await insertSubscription(tx, user.id, { planId: 'pro' })
      expect(await projects()).toEqual({ ...gauge, used: '2', quota: '100', remaining: '98' })

      await tx`update tollgate.subscriptions set plan_id = 'enterprise' where id = ${sub.id}::uuid`
      expect(await projects()).toEqual({ ...gauge, used: '2', quota: '-1', remaining: null })

      await setStatus(tx, sub.id, 'canceled')
      expect(await projects()).toEqual({ ...gauge, used: '2', quota: '3', remaining: '1' })
    })
  })

  it('keeps a count above the new quota after a downgrade, leaving nothing to consume', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const sub = await insertSubscription(tx, user.id, { planId: 'pro' })
      expect(await consume(tx, user.id, 'projects', 10)).toMatchObject({ allowed: true, used: 10 })
      await setStatus(tx, sub.id, 'canceled')
      expect(await consume(tx, user.id, 'projects', 1)).toEqual({
        allowed: false,
        metric: 'projects',
        used: 10,
        quota: 3,
        remaining: 0,
        period_end: null,
        credits_remaining: 0,
        credits_drawn: 0,
      })
    })
  })
})
