import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { type Tx, withRollback } from '../../helpers/db.ts'
import { consume, countersOf, insertSubscription, usageAs } from './support.ts'

// The usage view (usage_rows) answers from the stored counters when none is due, and consume's
// fast path counts on them: both trust a counter until its period ends or its plan is due for a
// re-check. So every input of the rule must refresh the counters or mark them due (issue 17).

type Row = Record<string, unknown>

/** usage_rows (what the view reads) and the rule alone (usage_rows_by_rule), at now(). */
const bothReads = async (tx: Tx, userId: string): Promise<{ read: Row[]; rule: Row[] }> => {
  const read = await tx<Row[]>`
    select * from tollgate_private.usage_rows(${userId}::uuid, now()) order by metric`
  const rule = await tx<Row[]>`
    select * from tollgate_private.usage_rows_by_rule(${userId}::uuid, now()) order by metric`
  return { read, rule }
}

const quotas = (rows: Row[]) => rows.map((r) => [r.metric, String(r.used), String(r.quota)])

describe('stored counters', () => {
  it('follow a shortened past_due_grace at once: the plan ends for the view and for consume', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      // Renewal failed a day ago: pro for 2 more days under the default grace of 3 days.
      await insertSubscription(tx, user.id, {
        planId: 'pro',
        status: 'past_due',
        start: '-1 day',
        end: '1 month -1 day',
      })
      expect(await consume(tx, user.id, 'projects', 4)).toMatchObject({ allowed: true, used: 4, quota: 100 })
      // An admin shortens the grace to 12 hours: it ended 12 hours ago.
      await tx`update tollgate_private.settings set past_due_grace = interval '12 hours'`

      expect(quotas(await usageAs(tx, user))).toEqual([
        ['api_calls', '0', '1000'],
        ['api_keys', '0', '2'],
        ['projects', '4', '3'],
        ['requests', '0', '100'],
        ['storage_gb', '0', '1'],
      ])
      expect(await consume(tx, user.id, 'projects', 1)).toMatchObject({ allowed: false, used: 4, quota: 3 })
      const { read, rule } = await bothReads(tx, user.id)
      expect(read).toEqual(rule)
    })
  })

  it('pick up a limit added back to the plan, for the view and for consume', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      await insertSubscription(tx, user.id, { planId: 'pro' })
      const [limit] = await tx<{ quota: string; period: string; carry_over: boolean }[]>`
        delete from tollgate.plan_limits where plan_id = 'pro' and metric = 'storage_gb'
        returning quota, period, carry_over`
      // Off the plan: the counter stays (quota 0) and refuses.
      expect(await consume(tx, user.id, 'storage_gb', 1)).toMatchObject({ allowed: false, quota: 0 })
      expect((await countersOf(tx, user.id)).storage_gb).toMatchObject({ plan_id: 'pro', quota: '0' })

      await tx`
        insert into tollgate.plan_limits (plan_id, metric, quota, period, carry_over)
        values ('pro', 'storage_gb', ${limit!.quota}, ${limit!.period}, ${limit!.carry_over})`
      expect(quotas(await usageAs(tx, user)).find(([metric]) => metric === 'storage_gb')).toEqual([
        'storage_gb',
        '0',
        '50',
      ])
      expect(await consume(tx, user.id, 'storage_gb', 1)).toMatchObject({ allowed: true, used: 1, quota: 50 })
      const { read, rule } = await bothReads(tx, user.id)
      expect(read).toEqual(rule)
    })
  })

  it('answer a free user who counted one metric: the others are the rule\'s new counters', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      expect(await consume(tx, user.id, 'api_calls', 7)).toMatchObject({ allowed: true, used: 7 })
      expect(Object.keys(await countersOf(tx, user.id))).toEqual(['api_calls'])
      const { read, rule } = await bothReads(tx, user.id)
      expect(quotas(read)).toEqual([
        ['api_calls', '7', '1000'],
        ['api_keys', '0', '2'],
        ['projects', '0', '3'],
        ['requests', '0', '100'],
        ['storage_gb', '0', '1'],
      ])
      expect(read).toEqual(rule)

      // A counter whose period has ended: the rule answers (a lazy reset before any write).
      await tx`
        update tollgate_private.usage_counters
        set period_start = period_start - interval '1 month', period_end = now() - interval '1 second'
        where user_id = ${user.id}::uuid and metric = 'api_calls'`
      const after = await bothReads(tx, user.id)
      expect(quotas(after.read)[0]).toEqual(['api_calls', '0', '1000'])
      expect(after.read).toEqual(after.rule)
    })
  })
})
