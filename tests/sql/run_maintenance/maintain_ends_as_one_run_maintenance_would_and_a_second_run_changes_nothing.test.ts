import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createUser, type Sql } from '../../helpers/db.ts'
import { consumeAt, counterOf } from '../consume_usage/support.ts'
import {
  AS_OF,
  everything,
  FEBRUARY,
  maintain,
  maintenanceDatabase,
  orderedUserId,
  type MaintenanceDatabase,
  type MaintenanceReport,
} from './support.ts'

const JANUARY_USE = '2003-01-15T10:00:00Z'

// Thrown to roll a transaction back once its result is read.
class Rollback extends Error {}

/** What `fn` sees in a transaction that is then rolled back. */
const rolledBack = async <T>(sql: Sql, fn: (tx: Sql) => Promise<T>): Promise<T> => {
  let result: { value: T } | undefined
  await sql
    .begin(async (tx) => {
      result = { value: await fn(tx as unknown as Sql) }
      throw new Rollback()
    })
    .catch((error: unknown) => {
      if (!(error instanceof Rollback)) throw error
    })
  if (!result) throw new Error('no result')
  return result.value
}

const runMaintenance = async (q: Sql, batchSize: number): Promise<MaintenanceReport> => {
  const [row] = await q<{ report: MaintenanceReport }[]>`
    select tollgate_private.run_maintenance(${AS_OF}::text::timestamptz, ${batchSize}::int)
      as report`
  if (!row) throw new Error('no report')
  return row.report
}

describe.skipIf(inject('externalDatabase'))('maintain over a whole database', () => {
  let db: MaintenanceDatabase
  const users = Array.from({ length: 11 }, (_, i) => orderedUserId(i + 1))

  beforeAll(async () => {
    db = await maintenanceDatabase()
    const sql = db.owner
    for (const id of users) await createUser(sql, { id, email: `${id}@example.test` })
    // Users 1 to 7 on free: a calendar month of api_calls to roll, and a gauge that never rolls.
    for (const id of users.slice(0, 7)) {
      await consumeAt(sql, id, 'api_calls', 300, JANUARY_USE)
      await consumeAt(sql, id, 'projects', 2, JANUARY_USE)
    }
    // User 8: a quota whose paid period ended on January 20 (back to free when re-checked).
    await consumeAt(sql, users[7]!, 'api_calls', 300, JANUARY_USE)
    await sql`
      update tollgate_private.usage_counters
      set plan_id = 'pro', quota = 100000, base_quota = 100000, valid_until = '2003-01-20T00:00:00Z'
      where user_id = ${users[7]!}::uuid`
    // User 9: a one-off (razorpay) pro month that ended on January 25 (lapses, then expires).
    // User 10: a Stripe pro month set to cancel at its end, January 31.
    await sql`
      insert into tollgate.subscriptions (
        user_id, plan_id, status, provider, current_period_start, current_period_end,
        cancel_at_period_end
      ) values
        (${users[8]!}::uuid, 'pro', 'active', 'razorpay', '2002-12-25Z', '2003-01-25Z', false),
        (${users[9]!}::uuid, 'pro', 'active', 'stripe', '2002-12-31Z', '2003-01-31Z', true)`
    for (const id of users.slice(8, 10)) await consumeAt(sql, id, 'api_calls', 5000, JANUARY_USE)
    // User 11: a month that has not ended yet.
    await consumeAt(sql, users[10]!, 'api_calls', 10, '2003-02-10T00:00:00Z')
  })

  afterAll(async () => {
    await db?.close()
  })

  it('run_maintenance rolls at most batch_size due counters, in user order, and says more are due', async () => {
    await rolledBack(db.owner, async (tx) => {
      const report = await runMaintenance(tx, 3)
      expect(report).toMatchObject({ counters_refreshed: 3, more_counters_due: true })
      for (const id of users.slice(0, 3)) {
        expect(await counterOf(tx, id, 'api_calls')).toMatchObject({ ...FEBRUARY, used: 0 })
      }
      expect(await counterOf(tx, users[3]!, 'api_calls')).toMatchObject({ used: 300 })
      expect(await runMaintenance(tx, 1000)).toMatchObject({ more_counters_due: false })
    })
  })

  it('ends in the state one run_maintenance over everything ends in, and a second run writes nothing', async () => {
    const oneRun = await rolledBack(db.owner, async (tx) => {
      const report = await runMaintenance(tx, 1_000_000)
      expect(report).toMatchObject({
        subscriptions_ended: 1,
        subscriptions_lapsed: 1,
        subscriptions_expired: 1,
        more_counters_due: false,
      })
      return everything(tx)
    })
    // The one run changed what the test says it should (so the comparison below means something).
    expect(oneRun.subscriptions.map((s) => s.status)).toEqual(['canceled', 'canceled'])
    expect(oneRun.counters.filter((c) => c.period === 'month').map((c) => c.used)).toEqual([
      ...Array.from({ length: 8 }, () => '0'),
      '0',
      '0',
      '10',
    ])

    await maintain(db.owner, AS_OF, 2)
    expect(await everything(db.observer)).toEqual(oneRun)

    const afterFirst = await everything(db.observer, { versions: true })
    await maintain(db.owner, AS_OF, 2)
    expect(await everything(db.observer, { versions: true })).toEqual(afterFirst)
  })
})
