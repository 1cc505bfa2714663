import { afterAll, describe, expect, it } from 'vitest'
import { ownerSql, withRollback } from '../../helpers/db.ts'
import { clock, consume, countersOf, insertSubscription, testUsers, usageAs } from './support.ts'

const sql = ownerSql()
const users = testUsers(sql)
afterAll(async () => {
  await users.drop()
  await sql.end()
})

describe('an unlimited quota (-1)', () => {
  it('shows enterprise projects with quota -1 and remaining null', async () => {
    const user = await users.create()
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

  it('allows any amount and answers remaining null', async () => {
    const user = await users.create()
    await withRollback(sql, async (tx) => {
      await insertSubscription(tx, user.id, { planId: 'enterprise' })
      expect(await consume(tx, user.id, 'projects', 1_000_000_000)).toEqual({
        allowed: true,
        metric: 'projects',
        used: 1_000_000_000,
        quota: -1,
        remaining: null,
        period_end: null,
      })
      expect(await countersOf(tx, user.id)).toMatchObject({
        projects: { plan_id: 'enterprise', used: '1000000000', quota: '-1', base_quota: '-1' },
      })
    })
  })
})
