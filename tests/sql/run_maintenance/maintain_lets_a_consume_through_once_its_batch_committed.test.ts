import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  beginSession,
  consumeAt,
  counterOf,
  waitingOrFinished,
  waitUntilBlocked,
} from '../consume_usage/support.ts'
import {
  addFiveDueCounters,
  AS_OF,
  blockersOf,
  FEBRUARY,
  maintenanceDatabase,
  startMaintain,
  type MaintenanceDatabase,
} from './support.ts'

// Five due counters rolled two at a time: batches {1, 2}, {3, 4}, {5}; a session holding the free
// plan row holds the run inside batch 3 (see addFiveDueCounters).
describe.skipIf(inject('externalDatabase'))('maintain, one batch at a time', () => {
  let db: MaintenanceDatabase
  let users: string[] = []

  beforeAll(async () => {
    db = await maintenanceDatabase()
    users = await addFiveDueCounters(db.owner)
  })

  afterAll(async () => {
    await db?.close()
  })

  it('lets a consume of a counter of a committed batch through while a later batch waits', async () => {
    const holder = await beginSession(db.owner)
    await holder.q`select from tollgate.plans where id = 'free' for update`
    const run = await startMaintain(db.owner, AS_OF, 2)
    let holding = true
    try {
      await waitUntilBlocked(db.observer, run.pid)
      expect(await blockersOf(db.observer, run.pid)).toEqual([holder.pid])

      // Batches 1 and 2 are committed: another connection sees their counters rolled.
      for (const id of users.slice(0, 4)) {
        expect(await counterOf(db.observer, id, 'api_calls')).toMatchObject({
          ...FEBRUARY,
          used: 0,
        })
      }

      // A consume of a counter batch 1 rolled does not wait for the run.
      const consumer = await beginSession(db.owner)
      const consumed = consumeAt(consumer.q, users[0]!, 'api_calls', 7, AS_OF)
      expect(await waitingOrFinished(db.observer, consumer.pid, consumed)).toBe('finished')
      expect(await consumed).toMatchObject({
        allowed: true,
        used: 7,
        period_end: FEBRUARY.period_end,
      })
      await consumer.end('commit')

      // A consume of the counter in the batch being run waits for that batch, and only for it.
      const late = await beginSession(db.owner)
      const lateConsumed = consumeAt(late.q, users[4]!, 'api_calls', 1, AS_OF)
      expect(await waitingOrFinished(db.observer, late.pid, lateConsumed)).toBe('waiting')
      expect(await blockersOf(db.observer, late.pid)).toEqual([run.pid])

      holding = false
      await holder.end('commit')
      await run.done
      expect(await lateConsumed).toMatchObject({ allowed: true, used: 1, quota: 1000 })
      await late.end('commit')

      // Every counter rolled once: the use counted after its batch survived the rest of the run.
      expect(await counterOf(db.observer, users[0]!, 'api_calls')).toMatchObject({
        ...FEBRUARY,
        used: 7,
      })
      for (const id of users.slice(1, 4)) {
        expect(await counterOf(db.observer, id, 'api_calls')).toMatchObject({
          ...FEBRUARY,
          used: 0,
        })
      }
      expect(await counterOf(db.observer, users[4]!, 'api_calls')).toMatchObject({
        ...FEBRUARY,
        plan_id: 'free',
        quota: 1000,
        valid_until: null,
        used: 1,
      })
    } finally {
      // A failed assertion must not leave the run waiting for ever.
      if (holding) await holder.end('rollback')
      await run.done.catch(() => {})
    }
  })
})
