import postgres from 'postgres'
import { describe, expect, inject } from 'vitest'
import { asAdmin, pgError } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'

const grantsOf = async (sql: postgres.Sql, userId: string) => {
  const [row] = await sql<{ n: number; granted: string }[]>`
    select count(*)::int as n, coalesce(sum(granted), 0)::text as granted
    from tollgate.credit_balances where user_id = ${userId}`
  return { grants: row!.n, granted: Number(row!.granted) }
}

describe('tollgate.admin_grant_credits with an idempotency key', () => {
  it('answers the first grant to a retry and grants nothing more; IDKEY for another grant under the key', async ({ sql, admin, user }) => {
    const grant = (amount: number) =>
      asAdmin(sql, admin, (tx) => tx`
        select tollgate.admin_grant_credits(${user.id}, 'api_calls', ${amount}, null, 'outage', 'ticket-42') as g`,
        { commit: true }).then((rows) => rows[0]!.g)
    const first = await grant(500)
    const retry = await grant(500)
    expect(retry).toEqual(first)
    expect(first).toMatchObject({ granted: 500, idempotency_key: 'ticket-42' })
    expect(await grantsOf(sql, user.id)).toEqual({ grants: 1, granted: 500 })
    expect((await pgError(grant(900))).code).toBe('IDKEY')
    // Without a key each call is a grant of its own, as before.
    for (let i = 0; i < 2; i += 1) {
      await asAdmin(sql, admin, (tx) => tx`select tollgate.admin_grant_credits(${user.id}, 'api_calls', 1, null, 'again')`, { commit: true })
    }
    expect(await grantsOf(sql, user.id)).toEqual({ grants: 3, granted: 502 })
  })

  it('grants once when 8 retries of one request arrive at once', async ({ sql, admin, user }) => {
    const conns = Array.from({ length: 8 }, () => postgres(inject('databaseUrl'), { max: 1, onnotice: () => {}, prepare: false }))
    try {
      await Promise.all(conns.map((c) => c`select 1`))
      const answers = await Promise.all(conns.map((c) =>
        asAdmin(c, admin, (tx) => tx`
          select tollgate.admin_grant_credits(${user.id}, 'api_calls', 700, null, 'goodwill', 'ticket-7') as g`,
          { commit: true }).then((rows) => rows[0]!.g.id as string)))
      expect(new Set(answers).size).toBe(1)
    } finally {
      await Promise.all(conns.map((c) => c.end()))
    }
    expect(await grantsOf(sql, user.id)).toEqual({ grants: 1, granted: 700 })
  })
})
