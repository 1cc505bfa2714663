import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asServiceRole, asUser, withRollback } from '../../helpers/db.ts'
import { counterOf } from './support.ts'
import {
  consumeNowWithCredits,
  consumeWithCredits,
  grantCredits,
  ledgerCreditsOf,
} from './credits_support.ts'

// Free: api_calls 1000 a calendar month.
const FEB = '2024-02-10T12:00:00Z'

describe('consume_usage with credits', () => {
  it('takes the quota first, then credits; a call larger than the quota left is split; used never passes quota', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      await grantCredits(tx, user.id, 'api_calls', 500)
      expect(await consumeWithCredits(tx, user.id, 'api_calls', 900, FEB)).toMatchObject({
        allowed: true,
        used: 900,
        remaining: 100,
        credits_drawn: 0,
        credits_remaining: 500,
      })
      // 100 from the quota, 200 from credits.
      expect(await consumeWithCredits(tx, user.id, 'api_calls', 300, FEB)).toMatchObject({
        allowed: true,
        used: 1000,
        quota: 1000,
        remaining: 0,
        credits_drawn: 200,
        credits_remaining: 300,
      })
      expect(await consumeWithCredits(tx, user.id, 'api_calls', 300, FEB)).toMatchObject({
        allowed: true,
        used: 1000,
        credits_drawn: 300,
        credits_remaining: 0,
      })
      expect(await consumeWithCredits(tx, user.id, 'api_calls', 1, FEB)).toMatchObject({
        allowed: false,
        used: 1000,
        credits_drawn: 0,
        credits_remaining: 0,
      })
      expect(await counterOf(tx, user.id, 'api_calls')).toMatchObject({ used: 1000, quota: 1000 })
      // The ledger says what was counted and how much of it credits paid.
      expect(await ledgerCreditsOf(tx, user.id)).toEqual([
        { amount: 900, credits: 0, allowed: true },
        { amount: 300, credits: 200, allowed: true },
        { amount: 300, credits: 300, allowed: true },
      ])
      const [grant] = await tx<{ remaining: number }[]>`
        select remaining::float8 as remaining from tollgate.credit_balances where user_id = ${user.id}`
      expect(grant?.remaining).toBe(0)
    })
  })

  it('draws credits granted before the counter existed (the first consume makes the counter)', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      await grantCredits(tx, user.id, 'api_calls', 10)
      expect(await counterOf(tx, user.id, 'api_calls')).toBeNull()
      expect(await consumeWithCredits(tx, user.id, 'api_calls', 1005, FEB)).toMatchObject({
        allowed: true,
        used: 1000,
        credits_drawn: 5,
        credits_remaining: 5,
      })
    })
  })

  it('finds credits granted after a consume found none (the hint is set again by the grant)', async ({
    sql,
    user,
  }) => {
    await withRollback(sql, async (tx) => {
      const grant = await grantCredits(tx, user.id, 'api_calls', 5)
      // The draw of the last credit clears the hint ...
      await consumeWithCredits(tx, user.id, 'api_calls', 1005, FEB)
      expect(await consumeWithCredits(tx, user.id, 'api_calls', 1, FEB)).toMatchObject({
        allowed: false,
        credits_remaining: 0,
      })
      const [hint] = await tx<{ may: boolean }[]>`
        select may_have_credits as may from tollgate_private.usage_counters
        where user_id = ${user.id} and metric = 'api_calls'`
      expect(hint?.may).toBe(false)
      expect(grant).toBeTruthy()
      // ... and a new grant sets it again.
      await grantCredits(tx, user.id, 'api_calls', 7)
      expect(await consumeWithCredits(tx, user.id, 'api_calls', 2, FEB)).toMatchObject({
        allowed: true,
        credits_drawn: 2,
        credits_remaining: 5,
      })
    })
  })

  it('answers credits_remaining to the signed-in caller and shows credits in tollgate.usage and usage_of', async ({
    sql,
    user,
  }) => {
    await grantCredits(sql, user.id, 'api_calls', 50)
    const answer = await asUser(sql, user, (tx) => consumeNowWithCredits(tx, 'api_calls', 1))
    expect(answer).toMatchObject({ allowed: true, used: 1, credits_drawn: 0, credits_remaining: 50 })
    const viewed = await asUser(sql, user, (tx) =>
      tx<{ metric: string; credits: number }[]>`
        select metric, credits::float8 as credits from tollgate.usage order by metric`,
    )
    expect(viewed.find((row) => row.metric === 'api_calls')?.credits).toBe(50)
    expect(viewed.filter((row) => row.metric !== 'api_calls').every((row) => row.credits === 0)).toBe(
      true,
    )
    const ofUser = await asServiceRole(sql, (tx) =>
      tx<{ metric: string; credits: number }[]>`
        select metric, credits::float8 as credits from tollgate.usage_of(${user.id}::uuid)
        where metric = 'api_calls'`,
    )
    expect(ofUser).toEqual([{ metric: 'api_calls', credits: 50 }])
  })
})
