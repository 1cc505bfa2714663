import { describe, expect } from 'vitest'
import { TollgateError } from '../../packages/client/src/index.ts'
import { type ClientStack, failureOf, it } from './support.ts'

const apiCallsUsed = async (caller: Awaited<ReturnType<ClientStack['signIn']>>) =>
  (await caller.tollgate.myUsage()).find((usage) => usage.metric === 'api_calls')?.used

// PostgREST answers a custom SQLSTATE 400, so the SQL raises the codes whose registry status is
// another one in PostgREST's PGRST form (tollgate_private.raise_error), so each keeps its status.
describe('consume() failures', () => {
  it('rejects an amount that is not positive (INAMT) and counts nothing', async ({ stack }) => {
    const caller = await stack.signIn()

    for (const amount of [0, -3]) {
      const error = await failureOf(caller.tollgate.consume('api_calls', amount))
      expect(error.toJSON()).toEqual({
        code: 'INAMT',
        message: 'amount must be a whole number greater than 0',
        details: `got ${amount}`,
        hint: null,
      })
      expect(error.status).toBe(400)
      expect(error.name).toBe('TollgateError')
    }
    expect(await apiCallsUsed(caller)).toBe(0)
  })

  it('rejects an unknown metric (NOMET, 404) with its hint', async ({ stack }) => {
    const caller = await stack.signIn()

    const error = await failureOf(caller.tollgate.consume('no_such_metric'))

    expect(error).toMatchObject({
      code: 'NOMET',
      status: 404,
      message: 'Unknown metric no_such_metric',
      hint: 'Metrics are the ones named in tollgate.plan_limits.',
    })
  })

  it('rejects a key reused for another request (IDKEY, 409) or too long (BADKY, 400)', async ({
    stack,
  }) => {
    const caller = await stack.signIn()
    await caller.tollgate.consume('api_calls', 2, 'key-1')

    const reused = await failureOf(caller.tollgate.consume('api_calls', 3, 'key-1'))
    const tooLong = await failureOf(caller.tollgate.consume('api_calls', 1, 'k'.repeat(256)))

    expect(reused).toMatchObject({
      code: 'IDKEY',
      status: 409,
      details: 'first used for api_calls 2',
      hint: 'Use a new key for a new request.',
    })
    expect(tooLong).toMatchObject({ code: 'BADKY', status: 400 })
    expect(await apiCallsUsed(caller)).toBe(2)
  })

  it('passes a database error it has no code for through with PostgREST’s status', async ({
    stack,
  }) => {
    const caller = await stack.signIn()

    // 1.5 is no bigint: Postgres' own 22P02, which PostgREST answers 400.
    const error = await failureOf(caller.tollgate.consume('api_calls', 1.5))

    expect(error).toBeInstanceOf(TollgateError)
    expect(error).toMatchObject({ code: '22P02', status: 400 })
    expect(await apiCallsUsed(caller)).toBe(0)
  })
})
