import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest'
import { pgError } from '../../helpers/db.ts'
import { beginSession, consumeAt, counterOf, waitUntilBlocked } from '../consume_usage/support.ts'
import {
  addFiveDueCounters,
  AS_OF,
  blockersOf,
  FEBRUARY,
  maintain,
  maintenanceDatabase,
  startMaintain,
  type MaintenanceDatabase,
} from './support.ts'

// Five due counters rolled two at a time: batches {1, 2}, {3, 4}, {5}; a session holding the free
// plan row holds the run inside batch 3 (see addFiveDueCounters).
describe.skipIf(inject('externalDatabase'))('maintain when a batch fails', () => {
  let db: MaintenanceDatabase
  let users: string[] = []

  beforeEach(async () => {
    db = await maintenanceDatabase()
    users = await addFiveDueCounters(db.owner)
  })

  afterEach(async () => {
    await db?.close()
  })

  const expectRolled = async (ids: string[]) => {
    for (const id of ids) {
      expect(await counterOf(db.observer, id, 'api_calls')).toMatchObject({ ...FEBRUARY, used: 0 })
    }
  }

  it('retries a batch that lost a deadlock (40P01) and keeps the batches before it', async () => {
    // The holder waits a minute before it looks for a deadlock, the run 3 s: the run, which waits
    // first, finds the deadlock and loses it (both settings need a superuser).
    const holder = await beginSession(db.superuser)
    await holder.q`set local deadlock_timeout = '1min'`
    await holder.q`select from tollgate.plans where id = 'free' for update`
    const run = await startMaintain(db.superuser, AS_OF, 2, { deadlock_timeout: '3s' })
    let open = true
    try {
      await waitUntilBlocked(db.observer, run.pid)
      expect(await blockersOf(db.observer, run.pid)).toEqual([holder.pid])
      await expectRolled(users.slice(0, 4))

      // The holder now consumes with the counter batch 3 holds: each waits for the other.
      const consumed = await consumeAt(holder.q, users[4]!, 'api_calls', 1, AS_OF)
      expect(consumed).toMatchObject({ allowed: true, used: 1, quota: 1000 })
      open = false
      await holder.end('commit')
      await run.done
    } finally {
      if (open) await holder.end('rollback')
      await run.done.catch(() => {})
    }

    // The batch was tried again at least once (again if it lost the same race on a busy machine).
    const [report] = db.notices.filter((n) => n.startsWith('tollgate maintenance'))
    expect(report).toMatch(
      /^tollgate maintenance at 2003-02-01 00:00:00\+00: 4 counters refreshed in 3 batches, [1-4] retried$/,
    )
    await expectRolled(users.slice(0, 4))
    // Rolled once, by the holder's consume: the retried batch found it no longer due.
    expect(await counterOf(db.observer, users[4]!, 'api_calls')).toMatchObject({
      ...FEBRUARY,
      plan_id: 'free',
      used: 1,
    })
  })

  it('ends with a lock timeout (55P03) after the batches before it committed; the next run finishes', async () => {
    const holder = await beginSession(db.owner)
    await holder.q`select from tollgate.plans where id = 'free' for update`
    let open = true
    try {
      const error = await pgError(maintain(db.owner, AS_OF, 2, { lock_timeout: '50ms' }))
      expect(error.code).toBe('55P03')
      await expectRolled(users.slice(0, 4))
      expect(await counterOf(db.observer, users[4]!, 'api_calls')).toMatchObject({
        plan_id: 'pro',
        used: 300,
        period_end: FEBRUARY.period_start,
      })
      // Meanwhile a rolled counter is used: the next run must not roll it again.
      await consumeAt(db.owner, users[0]!, 'api_calls', 7, AS_OF)
      open = false
      await holder.end('commit')
    } finally {
      if (open) await holder.end('rollback')
    }

    await maintain(db.owner, AS_OF, 2)
    expect(await counterOf(db.observer, users[0]!, 'api_calls')).toMatchObject({
      ...FEBRUARY,
      used: 7,
    })
    await expectRolled(users.slice(1, 4))
    expect(await counterOf(db.observer, users[4]!, 'api_calls')).toMatchObject({
      ...FEBRUARY,
      plan_id: 'free',
      used: 0,
    })
  })
})
