import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { utc, windowOf } from './support.ts'

describe('period_window for month without an anchor', () => {
  it.for([
    ['mid-month', '2024-02-10T12:00:00Z', '2024-02-01T00:00:00Z', '2024-03-01T00:00:00Z'],
    ['a leap day', '2024-02-29T12:00:00Z', '2024-02-01T00:00:00Z', '2024-03-01T00:00:00Z'],
    [
      'the first instant of a month',
      '2024-03-01T00:00:00Z',
      '2024-03-01T00:00:00Z',
      '2024-04-01T00:00:00Z',
    ],
    ['December', '2024-12-31T23:59:59Z', '2024-12-01T00:00:00Z', '2025-01-01T00:00:00Z'],
  ])('gives the calendar month (UTC) around %s', async ([_name, asOf, start, end], { sql }) => {
    expect(await windowOf(sql, 'month', null, asOf)).toEqual(utc(start, end))
  })

  it('puts Jan 31 23:59:59.999 in January and Feb 1 00:00 in February', async ({ sql }) => {
    expect(await windowOf(sql, 'month', null, '2024-01-31T23:59:59.999Z')).toEqual(
      utc('2024-01-01T00:00:00Z', '2024-02-01T00:00:00Z'),
    )
    expect(await windowOf(sql, 'month', null, '2024-02-01T00:00:00Z')).toEqual(
      utc('2024-02-01T00:00:00Z', '2024-03-01T00:00:00Z'),
    )
  })

  it('ends a period exactly where the next one starts', async ({ sql }) => {
    const first = await windowOf(sql, 'month', null, '2024-01-15T00:00:00Z')
    if (first.end === null) throw new Error('month without end')
    const next = await windowOf(sql, 'month', null, first.end)
    expect(next.start).toBe(first.end)
  })
})
