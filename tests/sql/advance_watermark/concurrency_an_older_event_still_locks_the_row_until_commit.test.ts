import { randomUUID } from 'node:crypto'
import { afterAll, describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { ownerSql, pgError, type Sql } from '../../helpers/db.ts'
import { beginSession, waitingOrFinished } from '../consume_usage/support.ts'
import { advance, refOf } from './support.ts'

const other = ownerSql({ max: 1 })
afterAll(() => other.end())

const T = '2026-11-01T10:00:00Z'

const forget = (sql: Sql, id: string) =>
  sql`delete from tollgate_private.provider_refs where provider = 'stripe' and provider_id = ${id}`

describe('advance_watermark from two connections', () => {
  it('makes a second event about the object wait, then judges it against the first', async ({
    sql,
  }) => {
    const id = `sub_${randomUUID()}`
    try {
      expect(await advance(sql, 'subscription', id, T, 'evt_a')).toBe(true)
      const first = await beginSession(sql)
      expect(await advance(first.q, 'subscription', id, '2026-11-01T10:00:10Z', 'evt_c')).toBe(true)
      // Newer than what is committed, older than what is in flight.
      const [backend] = await other<{ pid: number }[]>`select pg_catalog.pg_backend_pid() as pid`
      const second = advance(other, 'subscription', id, '2026-11-01T10:00:05Z', 'evt_b')
      const state = await waitingOrFinished(sql, backend?.pid ?? -1, second)
      await first.end('commit')
      expect(state).toBe('waiting')
      expect(await second).toBe(false)
      expect(await refOf(sql, 'subscription', id)).toMatchObject({
        last_event_at: '2026-11-01T10:00:10Z',
        last_event_id: 'evt_c',
      })
    } finally {
      await forget(sql, id)
    }
  })

  it('holds the row locked after answering false for an older event (55P03 for others)', async ({
    sql,
  }) => {
    const id = `in_${randomUUID()}`
    try {
      expect(await advance(sql, 'invoice', id, T, 'evt_b')).toBe(true)
      const stale = await beginSession(sql)
      try {
        expect(await advance(stale.q, 'invoice', id, T, 'evt_a')).toBe(false)
        const error = await pgError(other`
          select 1 from tollgate_private.provider_refs
          where provider = 'stripe' and object_type = 'invoice' and provider_id = ${id}
          for no key update nowait`)
        expect(error).toHaveProperty('code', '55P03')
      } finally {
        await stale.end('rollback')
      }
    } finally {
      await forget(sql, id)
    }
  })
})
