import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback } from '../../helpers/db.ts'
import { consumeAt, counterOf, insertPlan, ledgerOf, uniqueMetric } from './support.ts'

const FEB = '2024-02-10T12:00:00Z'

describe("consume_usage of a metric that another plan has but the user's plan has not", () => {
  it('answers allowed false with quota 0 and counts nothing', async ({ sql, user }) => {
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
