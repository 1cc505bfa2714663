import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { pgError } from '../../helpers/db.ts'
import { utc, windowOf } from './support.ts'

describe('period_window for never', () => {
  it('starts at as_of and never ends, whatever the anchor', async ({ sql }) => {
    expect(await windowOf(sql, 'never', null, '2024-02-10T12:34:56Z')).toEqual(
      utc('2024-02-10T12:34:56Z', null),
    )
    expect(await windowOf(sql, 'never', '2024-01-31T00:00:00Z', '2024-02-10T12:34:56Z')).toEqual(
      utc('2024-02-10T12:34:56Z', null),
    )
  })

  it('refuses an unknown period (22023)', async ({ sql }) => {
    expect((await pgError(windowOf(sql, 'week', null, '2024-02-10T00:00:00Z'))).code).toBe('22023')
  })
})
