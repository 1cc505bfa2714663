import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { createUser, withRollback } from '../../helpers/db.ts'
import { consumeAt, counterOf } from '../consume_usage/support.ts'
import { runMaintenance } from './support.ts'

describe('run_maintenance', () => {
  it('leaves a running period alone while it rolls an ended one in the same run', async ({
    sql,
  }) => {
    await withRollback(sql, async (tx) => {
      const running = await createUser(tx)
      const ended = await createUser(tx)
      await consumeAt(tx, running.id, 'api_calls', 300, '2003-01-15T10:00:00Z')
      await consumeAt(tx, ended.id, 'api_calls', 300, '2002-12-15T10:00:00Z')
      const before = await counterOf(tx, running.id, 'api_calls')
      expect(before).toMatchObject({ period_end: '2003-02-01T00:00:00.000Z', used: 300 })

      await runMaintenance(tx, '2003-01-31T23:59:59.999999Z')

      expect(await counterOf(tx, running.id, 'api_calls')).toEqual(before)
      expect(await counterOf(tx, ended.id, 'api_calls')).toMatchObject({
        period_start: '2003-01-01T00:00:00.000Z',
        period_end: '2003-02-01T00:00:00.000Z',
        used: 0,
      })
    })
  })

  it('never resets a gauge', async ({ sql }) => {
    await withRollback(sql, async (tx) => {
      const user = await createUser(tx)
      await consumeAt(tx, user.id, 'projects', 2, '2003-01-15T10:00:00Z')
      const before = await counterOf(tx, user.id, 'projects')
      expect(before).toMatchObject({ period: 'never', period_end: null, used: 2 })
      await runMaintenance(tx, '2003-06-01T00:00:00Z')
      expect(await counterOf(tx, user.id, 'projects')).toEqual(before)
    })
  })
})
