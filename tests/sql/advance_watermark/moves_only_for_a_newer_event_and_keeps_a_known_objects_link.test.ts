import { randomUUID } from 'node:crypto'
import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { createUser, withRollback } from '../../helpers/db.ts'
import { advance, refOf } from './support.ts'

const T = '2026-11-01T10:00:00Z'
const LATER = '2026-11-01T10:00:05Z'
const EARLIER = '2026-11-01T09:59:55Z'

describe('advance_watermark', () => {
  it('creates a new object with its watermark and link, and answers true', async ({ sql }) => {
    await withRollback(sql, async (tx) => {
      const user = await createUser(tx)
      const localId = randomUUID()
      const id = `in_${randomUUID()}`
      const link = { localId, userId: user.id, parentId: 'sub_x' }
      expect(await advance(tx, 'invoice', id, T, 'evt_b', link)).toBe(true)
      expect(await refOf(tx, 'invoice', id)).toEqual({
        local_id: localId,
        user_id: user.id,
        parent_id: 'sub_x',
        last_event_at: T,
        last_event_id: 'evt_b',
      })
    })
  })

  it('moves for a later event or a greater id in the same second, never back', async ({ sql }) => {
    await withRollback(sql, async (tx) => {
      const id = `sub_${randomUUID()}`
      expect(await advance(tx, 'subscription', id, T, 'evt_b')).toBe(true)
      // The same event again, an older one, a smaller id in the same second: stale, nothing moves.
      expect(await advance(tx, 'subscription', id, T, 'evt_b')).toBe(false)
      expect(await advance(tx, 'subscription', id, EARLIER, 'evt_z')).toBe(false)
      expect(await advance(tx, 'subscription', id, T, 'evt_a')).toBe(false)
      expect(await refOf(tx, 'subscription', id)).toMatchObject({
        last_event_at: T,
        last_event_id: 'evt_b',
      })
      expect(await advance(tx, 'subscription', id, T, 'evt_c')).toBe(true)
      expect(await advance(tx, 'subscription', id, LATER, 'evt_a')).toBe(true)
      expect(await refOf(tx, 'subscription', id)).toMatchObject({
        last_event_at: LATER,
        last_event_id: 'evt_a',
      })
    })
  })

  it('keeps a known link and fills in only what a row written before any event lacks', async ({
    sql,
  }) => {
    await withRollback(sql, async (tx) => {
      const user = await createUser(tx)
      const other = await createUser(tx)
      const id = `cs_${randomUUID()}`
      // A row written before any event, without a local row (as record_checkout writes one).
      await tx`
        insert into tollgate_private.provider_refs (provider, object_type, provider_id, user_id)
        values ('stripe', 'checkout_session', ${id}, ${user.id})`
      const localId = randomUUID()
      expect(
        await advance(tx, 'checkout_session', id, T, 'evt_a', {
          localId,
          userId: other.id,
          parentId: 'sub_first',
        }),
      ).toBe(true)
      const linked = {
        local_id: localId,
        user_id: user.id,
        parent_id: 'sub_first',
        last_event_at: T,
        last_event_id: 'evt_a',
      }
      expect(await refOf(tx, 'checkout_session', id)).toEqual(linked)
      // Once linked, a later event's link changes nothing but the watermark.
      expect(
        await advance(tx, 'checkout_session', id, LATER, 'evt_b', {
          localId: randomUUID(),
          userId: other.id,
          parentId: 'sub_second',
        }),
      ).toBe(true)
      expect(await refOf(tx, 'checkout_session', id)).toEqual({
        ...linked,
        last_event_at: LATER,
        last_event_id: 'evt_b',
      })
    })
  })
})
