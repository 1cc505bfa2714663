import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import {
  beginSession,
  consumeAt,
  insertPlan,
  uniqueMetric,
  waitingOrFinished,
} from '../consume_usage/support.ts'

// The usage ledger has no foreign key to auth.users (0230: its check cost every consume a lock on
// the user's row). What keeps a deleted user's ledger empty instead: a counted call holds its
// counter row, which forget_user deletes before the ledger; a call that holds no counter row (a
// keyed refusal, a release of a metric the user's plan lacks) holds the user's row.
const NOW = new Date().toISOString()

const ledgerRows = async (sql: Parameters<typeof consumeAt>[0], userId: string) =>
  (
    await sql<{ n: number }[]>`
      select count(*)::int as n from tollgate_private.usage_events where user_id = ${userId}::uuid`
  )[0]?.n

/** Deletes the user from another session while `consumer`'s transaction is open; the deletion
 * must wait for it. Both sessions end, whatever happens. */
const deleteWhileInFlight = async (
  sql: Parameters<typeof beginSession>[0],
  consumer: Awaited<ReturnType<typeof beginSession>>,
  userId: string,
) => {
  const deleter = await beginSession(sql)
  const deleted = deleter.q`delete from auth.users where id = ${userId}::uuid`.execute()
  try {
    expect(await waitingOrFinished(sql, deleter.pid, deleted)).toBe('waiting')
  } finally {
    await consumer.end('commit')
    await deleted.catch(() => undefined)
    await deleter.end('commit')
  }
}

describe('a consume in flight while its user is deleted', () => {
  it('a counted call: the deletion waits for it, then removes its ledger row', async ({ sql, users }) => {
    const user = await users.create()
    const consumer = await beginSession(sql)
    const answer = await consumeAt(consumer.q, user.id, 'api_calls', 1, NOW)
    expect(answer.allowed).toBe(true)

    await deleteWhileInFlight(sql, consumer, user.id)

    expect(await ledgerRows(sql, user.id)).toBe(0)
  })

  it('a keyed refusal (a ledger row without a count): the deletion waits for it too', async ({
    sql,
    users,
  }) => {
    const user = await users.create()
    await sql.begin((tx) => consumeAt(tx, user.id, 'api_calls', 1000, NOW))
    const consumer = await beginSession(sql)
    const answer = await consumeAt(consumer.q, user.id, 'api_calls', 5, NOW, 'refused-key')
    expect(answer.allowed).toBe(false)

    await deleteWhileInFlight(sql, consumer, user.id)

    expect(await ledgerRows(sql, user.id)).toBe(0)
  })

  it('a release of a metric not on the user\'s plan (a ledger row, no counter): the deletion waits for it too', async ({
    sql,
    users,
  }) => {
    const user = await users.create()
    // A gauge only another plan has: the user (on free) has no counter of it.
    const metric = uniqueMetric('seats')
    await insertPlan(sql, [{ metric, quota: 5, period: 'never' }])
    const consumer = await beginSession(sql)
    const [row] = await consumer.q<{ answer: { allowed: boolean } }[]>`
      select tollgate_private.release_usage(${user.id}::uuid, ${metric}, 1, null, ${NOW}::timestamptz) as answer`
    expect(row?.answer.allowed).toBe(true)

    await deleteWhileInFlight(sql, consumer, user.id)

    expect(await ledgerRows(sql, user.id)).toBe(0)
  })
})
