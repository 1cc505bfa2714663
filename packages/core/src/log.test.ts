import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { log } from './log.ts'

const stderr = vi.spyOn(console, 'error').mockImplementation(() => {})
afterEach(() => stderr.mockClear())
afterAll(() => stderr.mockRestore())

const lines = (): Record<string, unknown>[] =>
  stderr.mock.calls.map((args) => JSON.parse(String(args[0])) as Record<string, unknown>)

describe('log', () => {
  it('writes one JSON line with time, level, event and fields', () => {
    log.info('checkout_created', { user_id: 'u1', amount: 2900 })
    expect(stderr).toHaveBeenCalledTimes(1)
    const [line] = lines()
    expect(line).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      level: 'info',
      event: 'checkout_created',
      user_id: 'u1',
      amount: 2900,
    })
  })

  it('reduces an error to name, message, code and stack', () => {
    const error = Object.assign(new Error('boom'), { code: 'ECONNREFUSED', secret: 'x' })
    log.error('db_down', { error })
    expect(lines()).toEqual([
      {
        time: expect.any(String),
        level: 'error',
        event: 'db_down',
        error: { name: 'Error', message: 'boom', code: 'ECONNREFUSED', stack: error.stack },
      },
    ])
  })

  it('writes bigints as strings and survives cycles', () => {
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    log.warn('odd_values', { big: 2n ** 64n })
    log.warn('cyclic', { cycle })
    expect(lines()).toEqual([
      { time: expect.any(String), level: 'warn', event: 'odd_values', big: '18446744073709551616' },
      { time: expect.any(String), level: 'warn', event: 'cyclic' },
    ])
  })
})
