import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { utc, windowOf } from './support.ts'

describe('period_window for month with an anchor', () => {
  const jan31 = '2024-01-31T00:00:00Z'

  it.for([
    ['in the first period', '2024-02-15T00:00:00Z', '2024-01-31', '2024-02-29'],
    ['on the clamped Feb 29 boundary', '2024-02-29T00:00:00Z', '2024-02-29', '2024-03-31'],
    ['in March', '2024-03-15T00:00:00Z', '2024-02-29', '2024-03-31'],
    ['just before Mar 31', '2024-03-30T23:59:59.999Z', '2024-02-29', '2024-03-31'],
    ['in April', '2024-04-15T00:00:00Z', '2024-03-31', '2024-04-30'],
    ['in May', '2024-05-30T12:00:00Z', '2024-04-30', '2024-05-31'],
    ['a year later', '2025-02-28T00:00:00Z', '2025-02-28', '2025-03-31'],
    ['before the anchor', '2024-01-15T00:00:00Z', '2023-12-31', '2024-01-31'],
  ])(
    'counts anchor + k months from Jan 31, clamped to month end, %s',
    async ([_n, asOf, s, e], { sql }) => {
      expect(await windowOf(sql, 'month', jan31, asOf)).toEqual(
        utc(`${s}T00:00:00Z`, `${e}T00:00:00Z`),
      )
    },
  )

  it.for([
    ['the day before the first anniversary', '2025-02-27T12:00:00Z', '2025-01-29', '2025-02-28'],
    [
      'the first anniversary, clamped to Feb 28',
      '2025-02-28T12:00:00Z',
      '2025-02-28',
      '2025-03-29',
    ],
    ['the next leap year', '2028-02-29T12:00:00Z', '2028-02-29', '2028-03-29'],
  ])('counts from a leap-day anchor (2024-02-29): %s', async ([_n, asOf, s, e], { sql }) => {
    expect(await windowOf(sql, 'month', '2024-02-29T00:00:00Z', asOf)).toEqual(
      utc(`${s}T00:00:00Z`, `${e}T00:00:00Z`),
    )
  })

  it("keeps the anchor's time of day as the boundary", async ({ sql }) => {
    const anchor = '2024-01-31T15:30:00Z'
    expect(await windowOf(sql, 'month', anchor, '2024-02-29T15:29:59.999Z')).toEqual(
      utc('2024-01-31T15:30:00Z', '2024-02-29T15:30:00Z'),
    )
    expect(await windowOf(sql, 'month', anchor, '2024-02-29T15:30:00Z')).toEqual(
      utc('2024-02-29T15:30:00Z', '2024-03-31T15:30:00Z'),
    )
  })

  it('chains periods without gaps or overlaps over two years', async ({ sql }) => {
    let window = await windowOf(sql, 'month', jan31, jan31)
    expect(window.start).toBe(new Date(jan31).toISOString())
    const starts: string[] = []
    for (let i = 0; i < 24; i += 1) {
      if (window.start === null || window.end === null) throw new Error('open month')
      starts.push(window.start.slice(0, 10))
      const next = await windowOf(sql, 'month', jan31, window.end)
      expect(next.start).toBe(window.end)
      window = next
    }
    // Every period starts on the anchor's day, or the month's last day when it is shorter.
    expect(starts.slice(0, 13)).toEqual([
      '2024-01-31',
      '2024-02-29',
      '2024-03-31',
      '2024-04-30',
      '2024-05-31',
      '2024-06-30',
      '2024-07-31',
      '2024-08-31',
      '2024-09-30',
      '2024-10-31',
      '2024-11-30',
      '2024-12-31',
      '2025-01-31',
    ])
    expect(starts[13]).toBe('2025-02-28')
  })
})
