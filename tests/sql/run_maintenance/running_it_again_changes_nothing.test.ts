import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { createUser, withRollback } from '../../helpers/db.ts'
import { consumeAt, counterOf } from '../consume_usage/support.ts'
import { runMaintenance } from './support.ts'

describe('run_maintenance run again', () => {
  it('changes nothing the first run did, and keeps usage counted since', async ({ sql }) => {
    await withRollback(sql, async (tx) => {
      const user = await createUser(tx)
      await consumeAt(tx, user.id, 'api_calls', 300, '2003-01-15T10:00:00Z')

      await runMaintenance(tx, '2003-02-01T00:00:00Z')
      const afterFirst = await counterOf(tx, user.id, 'api_calls')
      expect(afterFirst).toMatchObject({
        period_start: '2003-02-01T00:00:00.000Z',
        period_end: '2003-03-01T00:00:00.000Z',
        used: 0,
      })
      await runMaintenance(tx, '2003-02-01T00:00:00Z')
      expect(await counterOf(tx, user.id, 'api_calls')).toEqual(afterFirst)

      // Usage of the new period survives any number of later runs inside it.
      await consumeAt(tx, user.id, 'api_calls', 50, '2003-02-10T00:00:00Z')
      for (const asOf of [
        '2003-02-01T00:00:00Z',
        '2003-02-10T00:00:00Z',
        '2003-02-28T23:59:59.999Z',
      ]) {
        await runMaintenance(tx, asOf)
        expect(await counterOf(tx, user.id, 'api_calls')).toEqual({ ...afterFirst, used: 50 })
      }
      // A run with an as_of before the current period does not move it back.
      await runMaintenance(tx, '2003-01-20T00:00:00Z')
      expect(await counterOf(tx, user.id, 'api_calls')).toEqual({ ...afterFirst, used: 50 })

      await runMaintenance(tx, '2003-03-01T00:00:00Z')
      expect(await counterOf(tx, user.id, 'api_calls')).toMatchObject({
        period_start: '2003-03-01T00:00:00.000Z',
        period_end: '2003-04-01T00:00:00.000Z',
        used: 0,
      })
    })
  })
})
