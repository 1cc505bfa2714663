import { describe, expect } from 'vitest'
import { asUser, pgError } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'

import type { Sql } from '../../helpers/db.ts'

const notify = (sql: Sql, userId: string, kind: string, key: string) =>
  sql`select tollgate_private.notify(${userId}, ${kind}, ${key}, 'Title', 'Body', '{}')`

const outboxKinds = async (sql: Sql, userId: string): Promise<string[]> =>
  (
    await sql<{ kind: string }[]>`
      select kind from tollgate_private.email_outbox where user_id = ${userId} order by kind`
  ).map((r) => r.kind)

describe('tollgate.mark_notifications_read and tollgate.set_notification_preferences', () => {
  it('marks the named or all of the caller’s unread notifications, never someone else’s', async ({
    sql,
    users,
  }) => {
    const me = await users.create()
    const other = await users.create()
    await notify(sql, me.id, 'quota_warning', 'a')
    await notify(sql, me.id, 'plan_changed', 'b')
    await notify(sql, other.id, 'plan_changed', 'c')
    const [mineA] = await sql<{ id: string }[]>`
      select id from tollgate.notifications where user_id = ${me.id} and dedupe_key = 'a'`
    const [theirs] = await sql<{ id: string }[]>`
      select id from tollgate.notifications where user_id = ${other.id}`

    const marked = await asUser(
      sql,
      me,
      (tx) =>
        tx<{ n: number }[]>`select tollgate.mark_notifications_read(${[mineA?.id, theirs?.id]}::uuid[]) as n`,
      { commit: true },
    )
    expect(marked[0]?.n).toBe(1)
    const all = await asUser(
      sql,
      me,
      (tx) => tx<{ n: number }[]>`select tollgate.mark_notifications_read() as n`,
      { commit: true },
    )
    expect(all[0]?.n).toBe(1)
    const [counts] = await sql<{ mine: number; theirs: number }[]>`
      select count(*) filter (where user_id = ${me.id} and read_at is null)::int as mine,
        count(*) filter (where user_id = ${other.id} and read_at is null)::int as theirs
      from tollgate.notifications where user_id in (${me.id}, ${other.id})`
    expect(counts).toEqual({ mine: 0, theirs: 1 })
    // Clients never write the table directly.
    const denied = await pgError(
      asUser(sql, me, (tx) => tx`update tollgate.notifications set read_at = null where user_id = ${me.id}`),
    )
    expect(denied.code).toBe('42501')
  })

  it('an opted-out kind is listed but not emailed; payment kinds always are', async ({ sql, user }) => {
    const answer = await asUser(
      sql,
      user,
      (tx) =>
        tx<{ a: { email_opt_out: string[] } }[]>`
          select tollgate.set_notification_preferences(array['quota_warning', 'plan_changed', 'quota_warning']) as a`,
      { commit: true },
    )
    expect(answer[0]?.a).toEqual({ email_opt_out: ['plan_changed', 'quota_warning'] })
    await notify(sql, user.id, 'quota_warning', 'w')
    await notify(sql, user.id, 'quota_exhausted', 'x')
    await notify(sql, user.id, 'payment_failed', 'p')
    expect(await outboxKinds(sql, user.id)).toEqual(['payment_failed', 'quota_exhausted'])
    const [listed] = await sql<{ n: number }[]>`
      select count(*)::int as n from tollgate.notifications where user_id = ${user.id}`
    expect(listed?.n).toBe(3)
  })

  it('refuses payment kinds and unknown kinds with 400 BADRQ, changing nothing', async ({ sql, user }) => {
    await asUser(sql, user, (tx) => tx`select tollgate.set_notification_preferences(array['plan_changed'])`, {
      commit: true,
    })
    for (const kinds of [['payment_failed'], ['plan_changed', 'no_such_kind'], [null]]) {
      const error = await pgError(
        asUser(sql, user, (tx) => tx`select tollgate.set_notification_preferences(${kinds}::text[])`),
      )
      expect(error.code).toBe('BADRQ')
    }
    const [row] = await sql<{ email_opt_out: string[] }[]>`
      select email_opt_out from tollgate.notification_preferences where user_id = ${user.id}`
    expect(row?.email_opt_out).toEqual(['plan_changed'])
  })

  it('answers 401 NOJWT without a signed-in user', async ({ sql }) => {
    const error = await pgError(
      sql.begin(async (tx) => {
        await tx`select pg_catalog.set_config('role', 'authenticated', true)`
        return tx`select tollgate.mark_notifications_read()`
      }),
    )
    expect(error.code).toBe('NOJWT')
  })
})
