import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asUser } from '../../helpers/db.ts'
import { consumeNow, counterOf, ledgerOf, subscribe } from './support.ts'

describe('an unlimited metric (quota -1)', () => {
  it('is always allowed, with remaining null: enterprise projects', async ({ sql, user }) => {
    await subscribe(sql, user.id, 'enterprise')

    const answers = await asUser(
      sql,
      user,
      async (tx) => [
        await consumeNow(tx, 'projects'),
        await consumeNow(tx, 'projects', 1_000_000),
        await consumeNow(tx, 'projects', 5, 'unlimited-key'),
      ],
      { commit: true },
    )

    const unlimited = {
      allowed: true,
      metric: 'projects',
      quota: -1,
      remaining: null,
      period_end: null,
    }
    expect(answers).toEqual([
      { ...unlimited, used: 1 },
      { ...unlimited, used: 1_000_001 },
      { ...unlimited, used: 1_000_006 },
    ])
    expect(await counterOf(sql, user.id, 'projects')).toMatchObject({
      plan_id: 'enterprise',
      period: 'never',
      period_end: null,
      used: 1_000_006,
      quota: -1,
      base_quota: -1,
    })
    expect((await ledgerOf(sql, user.id)).map((row) => [row.amount, row.allowed])).toEqual([
      [1, true],
      [1_000_000, true],
      [5, true],
    ])
  })
})
