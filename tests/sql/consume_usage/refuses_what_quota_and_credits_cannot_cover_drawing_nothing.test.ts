import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback } from '../../helpers/db.ts'
import { counterOf, insertPlan, subscribe, uniqueMetric } from './support.ts'
import {
  consumeWithCredits,
  grantCredits,
  ledgerCreditsOf,
  remainingByGrant,
} from './credits_support.ts'

const FEB = '2024-02-10T12:00:00Z'

describe('a consume that quota and credits together cannot cover', () => {
  it('is refused and counts nothing: neither quota nor credits, keyed or not', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const grant = await grantCredits(tx, user.id, 'api_calls', 5)
      await consumeWithCredits(tx, user.id, 'api_calls', 990, FEB)
      // 10 left of the quota + 5 credits < 20.
      expect(await consumeWithCredits(tx, user.id, 'api_calls', 20, FEB)).toMatchObject({
        allowed: false,
        used: 990,
        remaining: 10,
        credits_drawn: 0,
        credits_remaining: 5,
      })
      expect(await consumeWithCredits(tx, user.id, 'api_calls', 20, FEB, 'key-1')).toMatchObject({
        allowed: false,
        credits_drawn: 0,
        credits_remaining: 5,
      })
      expect(await counterOf(tx, user.id, 'api_calls')).toMatchObject({ used: 990 })
      expect(await remainingByGrant(tx, user.id, 'api_calls')).toEqual({ [grant]: 5 })
      expect(await ledgerCreditsOf(tx, user.id)).toEqual([
        { amount: 990, credits: 0, allowed: true },
        { amount: 20, credits: 0, allowed: false },
      ])
      // Exactly what is left of both still fits.
      expect(await consumeWithCredits(tx, user.id, 'api_calls', 15, FEB)).toMatchObject({
        allowed: true,
        used: 1000,
        credits_drawn: 5,
        credits_remaining: 0,
      })
    })
  })

  it('an unlimited quota never touches credits', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const metric = uniqueMetric('unl')
      const plan = await insertPlan(tx, [{ metric, quota: -1, period: 'month' }])
      await subscribe(tx, user.id, plan)
      const grant = await grantCredits(tx, user.id, metric, 100)
      const [now] = await tx<{ at: string }[]>`select now()::text as at`
      expect(await consumeWithCredits(tx, user.id, metric, 1_000_000, now!.at)).toMatchObject({
        allowed: true,
        quota: -1,
        remaining: null,
        credits_drawn: 0,
        credits_remaining: 100,
      })
      expect(await remainingByGrant(tx, user.id, metric)).toEqual({ [grant]: 100 })
    })
  })

  it('releasing a gauge gives back quota, never credits', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      // Free: projects 3, never resets.
      const grant = await grantCredits(tx, user.id, 'projects', 2)
      expect(await consumeWithCredits(tx, user.id, 'projects', 5, FEB)).toMatchObject({
        allowed: true,
        used: 3,
        credits_drawn: 2,
        credits_remaining: 0,
      })
      const [released] = await tx<{ answer: { used: number; credits_remaining: number } }[]>`
        select tollgate_private.release_usage(${user.id}::uuid, 'projects', 5, null,
          ${FEB}::text::timestamptz) as answer`
      expect(released?.answer).toMatchObject({ used: 0, credits_remaining: 0 })
      expect(await remainingByGrant(tx, user.id, 'projects')).toEqual({ [grant]: 0 })
    })
  })
})
