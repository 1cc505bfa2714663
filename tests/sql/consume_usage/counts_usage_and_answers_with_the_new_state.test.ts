import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asUser, withRollback } from '../../helpers/db.ts'
import { consumeAt, consumeNow, counterOf, ledgerOf, momentOf } from './support.ts'

describe('consume_usage', () => {
  it('counts the signed-in user through the public RPC and answers with the new state', async ({
    sql,
    user,
  }) => {
    const { first, second, monthStart, nextMonthStart } = await asUser(
      sql,
      user,
      async (tx) => ({
        first: await consumeNow(tx, 'api_calls'),
        second: await consumeNow(tx, 'api_calls', 41),
        monthStart: await momentOf(
          tx,
          `date_trunc('month', now() at time zone 'UTC') at time zone 'UTC'`,
        ),
        nextMonthStart: await momentOf(
          tx,
          `(date_trunc('month', now() at time zone 'UTC') + interval '1 month') at time zone 'UTC'`,
        ),
      }),
      { commit: true },
    )

    expect(first).toEqual({
      allowed: true,
      metric: 'api_calls',
      used: 1,
      quota: 1000,
      remaining: 999,
      period_end: nextMonthStart,
    })
    expect(second).toEqual({
      allowed: true,
      metric: 'api_calls',
      used: 42,
      quota: 1000,
      remaining: 958,
      period_end: nextMonthStart,
    })
    expect(await counterOf(sql, user.id, 'api_calls')).toEqual({
      plan_id: 'free',
      period: 'month',
      anchor: null,
      period_start: monthStart,
      period_end: nextMonthStart,
      used: 42,
      quota: 1000,
      base_quota: 1000,
      valid_until: null,
    })
    expect((await ledgerOf(sql, user.id)).map(({ period_start: _, ...row }) => row)).toEqual([
      { metric: 'api_calls', amount: 1, allowed: true, idempotency_key: null, result: null },
      { metric: 'api_calls', amount: 41, allowed: true, idempotency_key: null, result: null },
    ])
  })

  it('counts at the as_of it is given through the private function', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      expect(await consumeAt(tx, user.id, 'api_calls', 5, '2024-02-10T12:00:00Z')).toEqual({
        allowed: true,
        metric: 'api_calls',
        used: 5,
        quota: 1000,
        remaining: 995,
        period_end: '2024-03-01T00:00:00.000Z',
      })
      expect(await consumeAt(tx, user.id, 'storage_gb', 1, '2024-02-10T12:00:00Z')).toEqual({
        allowed: true,
        metric: 'storage_gb',
        used: 1,
        quota: 1,
        remaining: 0,
        period_end: null,
      })
      expect(await counterOf(tx, user.id, 'api_calls')).toEqual({
        plan_id: 'free',
        period: 'month',
        anchor: null,
        period_start: '2024-02-01T00:00:00.000Z',
        period_end: '2024-03-01T00:00:00.000Z',
        used: 5,
        quota: 1000,
        base_quota: 1000,
        valid_until: null,
      })
      expect(await counterOf(tx, user.id, 'storage_gb')).toMatchObject({
        plan_id: 'free',
        period: 'never',
        period_end: null,
        used: 1,
        quota: 1,
      })
    })
  })

  it('keeps each user on their own counter', async ({ sql, users }) => {
    const alice = await users.create()
    const bob = await users.create()
    await withRollback(sql, async (tx) => {
      await consumeAt(tx, alice.id, 'api_calls', 300, '2024-02-10T12:00:00Z')
      expect(await consumeAt(tx, bob.id, 'api_calls', 7, '2024-02-10T12:00:00Z')).toMatchObject({
        allowed: true,
        used: 7,
        remaining: 993,
      })
      expect(await counterOf(tx, alice.id, 'api_calls')).toMatchObject({ used: 300 })
      expect(await counterOf(tx, bob.id, 'api_calls')).toMatchObject({ used: 7 })
    })
  })
})
