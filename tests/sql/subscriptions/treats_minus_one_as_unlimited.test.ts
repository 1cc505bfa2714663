import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback } from '../../helpers/db.ts'
import { clock, consume, countersOf, insertSubscription, usageAs } from './support.ts'

describe('an unlimited quota (-1)', () => {
  it('shows enterprise projects with quota -1 and remaining null', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      await insertSubscription(tx, user.id, { planId: 'enterprise' })
      const t = await clock(tx)
      expect((await usageAs(tx, user)).find((r) => r.metric === 'projects')).toEqual({
        metric: 'projects',
        period: 'never',
        period_start: t.now,
        period_end: null,
        used: '0',
        quota: '-1',
        remaining: null,
      })
    })
  })

  it('allows any amount and answers remaining null', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      await insertSubscription(tx, user.id, { planId: 'enterprise' })
      expect(await consume(tx, user.id, 'projects', 1_000_000_000)).toEqual({
        allowed: true,
        metric: 'projects',
        used: 1_000_000_000,
        quota: -1,
        remaining: null,
        period_end: null,
        credits_remaining: 0,
        credits_drawn: 0,
      })
      expect(await countersOf(tx, user.id)).toMatchObject({
        projects: { plan_id: 'enterprise', used: '1000000000', quota: '-1', base_quota: '-1' },
      })
    })
  })
})
