import { afterAll, describe, expect } from 'vitest'
import { asUser } from '../../helpers/db.ts'
import { it } from '../../helpers/fixtures.ts'
import { consumeNow, openConnections, taggedPool, type Answer } from '../consume_usage/support.ts'

const workers = taggedPool()
afterAll(() => workers.sql.end())

const WORKERS = 16
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

type Note = { kind: string; data: { metric: string; used: number; quota: number } }

describe('quota notifications from many connections at once', () => {
  it('16 connections consuming a free quota of 1000 to the end make one quota_warning and one quota_exhausted', async ({
    sql,
    user,
  }) => {
    await openConnections(workers.sql, WORKERS)
    const answers = (
      await Promise.all(
        range(WORKERS).map(async () => {
          const mine: Answer[] = []
          for (let call = 0; call < 70; call += 1) {
            mine.push(
              await asUser(workers.sql, user, (tx) => consumeNow(tx, 'api_calls', 1), { commit: true }),
            )
          }
          return mine
        }),
      )
    ).flat()
    expect(answers.filter((a) => a.allowed)).toHaveLength(1000)

    const notes = await sql<Note[]>`
      select kind, data from tollgate.notifications where user_id = ${user.id} order by kind`
    expect(notes.map((n) => n.kind)).toEqual(['quota_exhausted', 'quota_warning'])
    // The count that crossed each line wrote it: 800 of 1000, then 1000 of 1000.
    expect(notes.map((n) => [n.data.metric, n.data.used, n.data.quota])).toEqual([
      ['api_calls', 1000, 1000],
      ['api_calls', 800, 1000],
    ])
    const [queued] = await sql<{ n: number }[]>`
      select count(*)::int as n from tollgate_private.email_outbox where user_id = ${user.id}`
    expect(queued?.n).toBe(2)
  })

  it('a first refusal below 100 % exhausts once; counts below 80 % write nothing', async ({ sql, user }) => {
    const consume = (amount: number) =>
      asUser(sql, user, (tx) => consumeNow(tx, 'api_calls', amount), { commit: true })
    expect((await consume(500)).allowed).toBe(true)
    expect(
      (await sql`select 1 from tollgate.notifications where user_id = ${user.id}`).length,
    ).toBe(0)
    expect((await consume(700)).allowed).toBe(false)
    expect((await consume(700)).allowed).toBe(false)
    const notes = await sql<Note[]>`
      select kind, data from tollgate.notifications where user_id = ${user.id}`
    expect(notes.map((n) => [n.kind, n.data.used])).toEqual([['quota_exhausted', 500]])
  })
})

describe('quota notifications after a plan change', () => {
  it('a downgrade that leaves the usage past the new quota notifies quota_exhausted once', async ({ sql, user }) => {
    // 5,000 calls on pro (quota 100,000), then back to free (1,000): past 100 % without a consume.
    await sql`
      insert into tollgate.subscriptions (user_id, plan_id, status, provider, current_period_start, current_period_end)
      values (${user.id}, 'pro', 'active', 'internal', now() - interval '1 day', now() + interval '29 days')`
    expect(
      (await asUser(sql, user, (tx) => consumeNow(tx, 'api_calls', 5000), { commit: true })).allowed,
    ).toBe(true)
    await sql`update tollgate.subscriptions set plan_id = 'free' where user_id = ${user.id}`
    await sql`update tollgate.subscriptions set status = 'canceled', ended_at = now() where user_id = ${user.id}`
    expect((await asUser(sql, user, (tx) => consumeNow(tx, 'api_calls', 1), { commit: true })).allowed).toBe(false)
    const notes = await sql<Note[]>`
      select kind, data from tollgate.notifications
      where user_id = ${user.id} and kind in ('quota_warning', 'quota_exhausted')`
    expect(notes.map((n) => n.kind)).toEqual(['quota_exhausted'])
  })
})
