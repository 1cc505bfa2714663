import { afterAll, describe, expect, it } from 'vitest'
import { ownerSql, withRollback } from '../../helpers/db.ts'
import { consumeAt, counterOf, insertPlan, ledgerOf, testUsers, uniqueMetric } from './support.ts'

const sql = ownerSql()
const users = testUsers(sql)
afterAll(async () => {
  await users.drop()
  await sql.end()
})

const FEB = '2024-02-10T12:00:00Z'

describe("consume_usage of a metric that another plan has but the user's plan has not", () => {
  it('answers allowed false with quota 0 and counts nothing', async () => {
    const user = await users.create()
    await withRollback(sql, async (tx) => {
      const metric = uniqueMetric('seats')
      await insertPlan(tx, [{ metric, quota: 50, period: 'month' }])
      const refused = {
        allowed: false,
        metric,
        used: 0,
        quota: 0,
        remaining: 0,
        period_end: null,
      }
      expect(await consumeAt(tx, user.id, metric, 1, FEB)).toEqual(refused)
      expect(await consumeAt(tx, user.id, metric, 1, FEB, 'seat-key')).toEqual(refused)
      expect(await counterOf(tx, user.id, metric)).toBeNull()
      expect(await ledgerOf(tx, user.id)).toMatchObject([
        { metric, amount: 1, allowed: false, idempotency_key: 'seat-key', result: refused },
      ])
    })
  })
})
