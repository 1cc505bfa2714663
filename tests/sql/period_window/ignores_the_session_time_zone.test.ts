import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { withRollback } from '../../helpers/db.ts'
import { utc, windowOf, type Window } from './support.ts'

// Each case would land elsewhere if computed in the session's local time: the day of a DST jump
// in New York, a half-hour offset in Kolkata, a UTC month that starts on the local evening before.
const cases: [string, string | null, string, Window][] = [
  ['hour', null, '2024-03-10T07:45:00Z', utc('2024-03-10T07:00:00Z', '2024-03-10T08:00:00Z')],
  ['day', null, '2024-03-10T12:00:00Z', utc('2024-03-10T00:00:00Z', '2024-03-11T00:00:00Z')],
  ['day', null, '2024-03-10T02:00:00Z', utc('2024-03-10T00:00:00Z', '2024-03-11T00:00:00Z')],
  ['month', null, '2024-03-01T02:00:00Z', utc('2024-03-01T00:00:00Z', '2024-04-01T00:00:00Z')],
  [
    'month',
    '2024-01-31T03:00:00Z',
    '2024-02-29T04:00:00Z',
    utc('2024-02-29T03:00:00Z', '2024-03-31T03:00:00Z'),
  ],
  [
    'month',
    '2024-01-31T03:00:00Z',
    '2024-03-31T02:30:00Z',
    utc('2024-02-29T03:00:00Z', '2024-03-31T03:00:00Z'),
  ],
]

describe('period_window', () => {
  it.for(['UTC', 'America/New_York', 'Asia/Kolkata', 'Pacific/Kiritimati'])(
    'gives the same UTC bounds with TimeZone %s',
    async (timeZone, { sql }) => {
      const windows = await withRollback(sql, async (tx) => {
        await tx`select pg_catalog.set_config('TimeZone', ${timeZone}, true)`
        const found: Window[] = []
        for (const [period, anchor, asOf] of cases)
          found.push(await windowOf(tx, period, anchor, asOf))
        return found
      })
      expect(windows).toEqual(cases.map(([, , , expected]) => expected))
    },
  )
})
