import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { createUser, withRollback, type Tx, type Sql } from '../../helpers/db.ts'
import {
  consumeAt,
  counterOf,
  insertPlan,
  uniqueMetric,
  uniquePlanId,
  type Answer,
  type Counter,
} from '../consume_usage/support.ts'
import { computedUsage, runMaintenance, subscribeOnStripe } from './support.ts'

// Each history runs twice, in two rolled-back transactions, on a user only that transaction can
// see: once rolled by run_maintenance before the next consume, once rolled lazily by that consume.
// Dates are in 2003 so that the maintenance of the shared database touches nothing of other files.

type Setup = (tx: Tx) => Promise<{ userId: string; metric: string }>

type Outcome = { rolled: Counter | null; answer: Answer; after: Counter | null }

const history = async (
  sql: Sql,
  setup: Setup,
  rollAt: string,
  amount: number,
  mode: 'scheduled' | 'lazy',
): Promise<Outcome> =>
  withRollback(sql, async (tx) => {
    const { userId, metric } = await setup(tx)
    let rolled: Counter | null = null
    if (mode === 'scheduled') {
      await runMaintenance(tx, rollAt)
      rolled = await counterOf(tx, userId, metric)
    } else {
      // What a read computes at rollAt, without writing: the roll the consume will make.
      const computed = await computedUsage(tx, userId, metric, rollAt)
      rolled = { ...(await counterOf(tx, userId, metric))!, ...computed }
    }
    const answer = await consumeAt(tx, userId, metric, amount, rollAt)
    return { rolled, answer, after: await counterOf(tx, userId, metric) }
  })

const bothWays = async (sql: Sql, setup: Setup, rollAt: string, amount: number) => {
  const scheduled = await history(sql, setup, rollAt, amount, 'scheduled')
  const lazy = await history(sql, setup, rollAt, amount, 'lazy')
  expect(scheduled.after).toEqual(lazy.after)
  expect(scheduled.answer).toEqual(lazy.answer)
  expect(scheduled.rolled).toMatchObject({
    period_start: lazy.rolled?.period_start,
    period_end: lazy.rolled?.period_end,
    used: lazy.rolled?.used,
    quota: lazy.rolled?.quota,
  })
  return scheduled
}

describe('run_maintenance', () => {
  it('rolls an ended calendar month exactly as the next consume would', async ({ sql }) => {
    const free: Setup = async (tx) => {
      const user = await createUser(tx)
      await consumeAt(tx, user.id, 'api_calls', 300, '2003-01-15T10:00:00Z')
      return { userId: user.id, metric: 'api_calls' }
    }
    const month = {
      plan_id: 'free',
      period: 'month',
      anchor: null,
      period_start: '2003-02-01T00:00:00.000Z',
      period_end: '2003-03-01T00:00:00.000Z',
      quota: 1000,
      base_quota: 1000,
      valid_until: null,
    }
    const { rolled, after } = await bothWays(sql, free, '2003-02-01T00:00:00Z', 7)
    expect(rolled).toEqual({ ...month, used: 0 })
    expect(after).toEqual({ ...month, used: 7 })
  })

  it('jumps over whole unused months to the one containing as_of, as a lazy consume does', async ({
    sql,
  }) => {
    const free: Setup = async (tx) => {
      const user = await createUser(tx)
      await consumeAt(tx, user.id, 'api_calls', 999, '2003-01-15T10:00:00Z')
      return { userId: user.id, metric: 'api_calls' }
    }
    const { rolled, after } = await bothWays(sql, free, '2003-04-15T08:00:00Z', 1)
    expect(rolled).toMatchObject({
      period_start: '2003-04-01T00:00:00.000Z',
      period_end: '2003-05-01T00:00:00.000Z',
      used: 0,
    })
    expect(after).toMatchObject({ period_start: '2003-04-01T00:00:00.000Z', used: 1 })
  })

  it('rolls an anchored billing month and drops carried-over quota, as a lazy consume does', async ({
    sql,
  }) => {
    const proSubscriber: Setup = async (tx) => {
      const user = await createUser(tx)
      await subscribeOnStripe(tx, user.id, 'pro', '2003-01-31T09:00:00Z', '2003-02-28T09:00:00Z')
      // Given: a pro subscriber who upgraded from free with 1000 calls left and has used 400 of
      // this billing month (the trigger synced the counter at now(), so set the month here).
      await tx`
        update tollgate_private.usage_counters
        set period_start = '2003-01-31T09:00:00Z', period_end = '2003-02-28T09:00:00Z',
          used = 400, quota = 101000
        where user_id = ${user.id}::uuid and metric = 'api_calls'`
      expect(await counterOf(tx, user.id, 'api_calls')).toMatchObject({
        anchor: '2003-01-31T09:00:00.000Z',
        base_quota: 100000,
      })
      return { userId: user.id, metric: 'api_calls' }
    }
    const month = {
      plan_id: 'pro',
      period: 'month',
      anchor: '2003-01-31T09:00:00.000Z',
      period_start: '2003-02-28T09:00:00.000Z',
      period_end: '2003-03-31T09:00:00.000Z',
      quota: 100000,
      base_quota: 100000,
      valid_until: null,
    }
    const { rolled, answer, after } = await bothWays(sql, proSubscriber, '2003-02-28T09:00:00Z', 25)
    expect(rolled).toEqual({ ...month, used: 0 })
    expect(answer).toEqual({
      allowed: true,
      metric: 'api_calls',
      used: 25,
      quota: 100000,
      remaining: 99975,
      period_end: month.period_end,
    })
    expect(after).toEqual({ ...month, used: 25 })
  })

  it('rolls an ended UTC hour as a lazy consume does', async ({ sql }) => {
    const metric = uniqueMetric('per_hour')
    const planId = uniquePlanId()
    const hourly: Setup = async (tx) => {
      await insertPlan(tx, [{ metric, quota: 5, period: 'hour' }], planId)
      const user = await createUser(tx)
      await subscribeOnStripe(tx, user.id, planId, '2003-01-31T09:00:00Z', '2003-02-28T09:00:00Z')
      // Start from no counter, so the first consume in 2003 creates it in that hour.
      await tx`delete from tollgate_private.usage_counters where user_id = ${user.id}::uuid`
      expect(await consumeAt(tx, user.id, metric, 5, '2003-02-10T10:30:00Z')).toMatchObject({
        used: 5,
        period_end: '2003-02-10T11:00:00.000Z',
      })
      return { userId: user.id, metric }
    }
    const hour = {
      plan_id: planId,
      period: 'hour',
      anchor: '2003-01-31T09:00:00.000Z',
      period_start: '2003-02-10T11:00:00.000Z',
      period_end: '2003-02-10T12:00:00.000Z',
      quota: 5,
      base_quota: 5,
      valid_until: null,
    }
    const { rolled, after } = await bothWays(sql, hourly, '2003-02-10T11:00:00Z', 2)
    expect(rolled).toEqual({ ...hour, used: 0 })
    expect(after).toEqual({ ...hour, used: 2 })
  })

  it('applies an edited limit to counters marked for a re-check, as a lazy consume does', async ({
    sql,
  }) => {
    const metric = uniqueMetric('per_hour')
    const planId = uniquePlanId()
    const edited: Setup = async (tx) => {
      await insertPlan(tx, [{ metric, quota: 5, period: 'hour' }], planId)
      const user = await createUser(tx)
      await subscribeOnStripe(tx, user.id, planId, '2003-01-31T09:00:00Z', '2003-02-28T09:00:00Z')
      await tx`delete from tollgate_private.usage_counters where user_id = ${user.id}::uuid`
      await consumeAt(tx, user.id, metric, 3, '2003-02-10T10:30:00Z')
      await tx`
        update tollgate.plan_limits set quota = 10 where plan_id = ${planId} and metric = ${metric}`
      return { userId: user.id, metric }
    }
    const hour = {
      plan_id: planId,
      period: 'hour',
      anchor: '2003-01-31T09:00:00.000Z',
      period_start: '2003-02-10T10:00:00.000Z',
      period_end: '2003-02-10T11:00:00.000Z',
      quota: 10,
      base_quota: 10,
      valid_until: null,
    }
    const { rolled, after } = await bothWays(sql, edited, '2003-02-10T10:45:00Z', 4)
    expect(rolled).toEqual({ ...hour, used: 3 })
    expect(after).toEqual({ ...hour, used: 7 })
  })
})
