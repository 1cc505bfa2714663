import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asAnon, asServiceRole, asUser } from '../../helpers/db.ts'
import { counterOf, ledgerOf, momentOf, normalize, type Answer } from './support.ts'

describe('tollgate.service_role_consume_usage', () => {
  it('counts for any user when called by the service role', async ({ sql, user }) => {
    const { answers, nextMonthStart } = await asServiceRole(
      sql,
      async (tx) => {
        const rows = await tx<{ answer: Answer }[]>`
          select tollgate.service_role_consume_usage(${user.id}::uuid, 'api_calls', 3) as answer
          union all
          select tollgate.service_role_consume_usage(${user.id}::uuid, 'api_calls', 4, 'srv-key')`
        return {
          answers: rows.map((row) => normalize(row.answer)),
          nextMonthStart: await momentOf(
            tx,
            `(date_trunc('month', now() at time zone 'UTC') + interval '1 month') at time zone 'UTC'`,
          ),
        }
      },
      { commit: true },
    )
    const state = { allowed: true, metric: 'api_calls', quota: 1000, period_end: nextMonthStart }
    expect(answers).toEqual([
      { ...state, used: 3, remaining: 997 },
      { ...state, used: 7, remaining: 993 },
    ])
    expect(await counterOf(sql, user.id, 'api_calls')).toMatchObject({ plan_id: 'free', used: 7 })
    expect((await ledgerOf(sql, user.id)).map((row) => [row.amount, row.idempotency_key])).toEqual([
      [3, null],
      [4, 'srv-key'],
    ])
  })

  it('is refused to a signed-in user, even for their own id (42501)', async ({ sql, user }) => {
    await expect(
      asUser(
        sql,
        user,
        (tx) => tx`select tollgate.service_role_consume_usage(${user.id}::uuid, 'api_calls', 1)`,
      ),
    ).rejects.toHaveProperty('code', '42501')
    expect(await counterOf(sql, user.id, 'api_calls')).toBeNull()
  })

  it('is refused to anon (42501)', async ({ sql, user }) => {
    await expect(
      asAnon(
        sql,
        (tx) => tx`select tollgate.service_role_consume_usage(${user.id}::uuid, 'api_calls', 1)`,
      ),
    ).rejects.toHaveProperty('code', '42501')
    expect(await counterOf(sql, user.id, 'api_calls')).toBeNull()
  })
})
