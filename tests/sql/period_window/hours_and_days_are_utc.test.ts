import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { utc, windowOf } from './support.ts'

describe('period_window for hour and day', () => {
  it.for([
    [
      'the middle of an hour',
      '2024-03-10T07:30:00Z',
      '2024-03-10T07:00:00Z',
      '2024-03-10T08:00:00Z',
    ],
    [
      'the first instant of an hour',
      '2024-03-10T08:00:00Z',
      '2024-03-10T08:00:00Z',
      '2024-03-10T09:00:00Z',
    ],
    [
      'the last millisecond of an hour',
      '2024-03-10T07:59:59.999Z',
      '2024-03-10T07:00:00Z',
      '2024-03-10T08:00:00Z',
    ],
    [
      'the last hour of a day',
      '2024-12-31T23:15:00Z',
      '2024-12-31T23:00:00Z',
      '2025-01-01T00:00:00Z',
    ],
  ])('gives the UTC hour around %s', async ([_name, asOf, start, end], { sql }) => {
    expect(await windowOf(sql, 'hour', null, asOf)).toEqual(utc(start, end))
  })

  it.for([
    ['the middle of a day', '2024-03-10T12:00:00Z', '2024-03-10T00:00:00Z', '2024-03-11T00:00:00Z'],
    [
      'the first instant of a day',
      '2024-03-11T00:00:00Z',
      '2024-03-11T00:00:00Z',
      '2024-03-12T00:00:00Z',
    ],
    [
      'the last millisecond of a day',
      '2024-03-10T23:59:59.999Z',
      '2024-03-10T00:00:00Z',
      '2024-03-11T00:00:00Z',
    ],
    ['a leap day', '2024-02-29T05:00:00Z', '2024-02-29T00:00:00Z', '2024-03-01T00:00:00Z'],
    ["new year's eve", '2024-12-31T18:00:00Z', '2024-12-31T00:00:00Z', '2025-01-01T00:00:00Z'],
  ])('gives the UTC day around %s', async ([_name, asOf, start, end], { sql }) => {
    expect(await windowOf(sql, 'day', null, asOf)).toEqual(utc(start, end))
  })

  it('ignores the anchor for hours and days', async ({ sql }) => {
    const anchor = '2024-01-31T15:30:00Z'
    expect(await windowOf(sql, 'hour', anchor, '2024-03-10T07:45:00Z')).toEqual(
      utc('2024-03-10T07:00:00Z', '2024-03-10T08:00:00Z'),
    )
    expect(await windowOf(sql, 'day', anchor, '2024-03-10T07:45:00Z')).toEqual(
      utc('2024-03-10T00:00:00Z', '2024-03-11T00:00:00Z'),
    )
  })
})
