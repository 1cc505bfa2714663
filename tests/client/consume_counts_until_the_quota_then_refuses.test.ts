import { describe, expect } from 'vitest'
import { it } from './support.ts'

describe('consume()', () => {
  it('counts against the quota, then answers allowed = false and counts nothing', async ({
    stack,
  }) => {
    const { tollgate } = await stack.signIn()

    // projects on free: 3, never resets.
    expect(await tollgate.consume('projects')).toEqual({
      allowed: true,
      metric: 'projects',
      used: 1,
      quota: 3,
      remaining: 2,
      period_end: null,
      credits_remaining: 0,
      credits_drawn: 0,
    })
    expect(await tollgate.consume('projects', 2)).toMatchObject({ allowed: true, used: 3 })
    expect(await tollgate.consume('projects')).toEqual({
      allowed: false,
      metric: 'projects',
      used: 3,
      quota: 3,
      remaining: 0,
      period_end: null,
      credits_remaining: 0,
      credits_drawn: 0,
    })
    expect(await tollgate.consume('projects', 1)).toMatchObject({ allowed: false, used: 3 })

    const projects = (await tollgate.myUsage()).find((usage) => usage.metric === 'projects')
    expect(projects).toMatchObject({ used: 3, quota: 3, remaining: 0 })
    // What the RPC ran as: the signed-in user under their own role.
    const calls = stack.postgrest.requests.filter((r) => r.url === '/rest/v1/rpc/consume_usage')
    expect(calls.at(-1)).toMatchObject({ method: 'POST', role: 'authenticated', status: 200 })
  })

  it('answers the period end of a monthly metric', async ({ stack }) => {
    const { tollgate } = await stack.signIn()

    const answer = await tollgate.consume('api_calls', 10)

    expect(answer).toMatchObject({ allowed: true, used: 10, quota: 1000, remaining: 990 })
    expect(Date.parse(String(answer.period_end))).toBeGreaterThan(Date.now())
  })

  it('counts a repeated idempotency key once and answers the first answer again', async ({
    stack,
  }) => {
    const { tollgate } = await stack.signIn()

    const first = await tollgate.consume('api_calls', 5, 'order-42')
    const again = await tollgate.consume('api_calls', 5, 'order-42')
    // The same key from several requests at once: still one count.
    const racing = await Promise.all(
      Array.from({ length: 4 }, () => tollgate.consume('api_calls', 7, 'order-43')),
    )

    expect(first).toMatchObject({ allowed: true, used: 5 })
    expect(again).toEqual(first)
    expect(new Set(racing.map((answer) => JSON.stringify(answer))).size).toBe(1)
    expect((await tollgate.myUsage()).find((usage) => usage.metric === 'api_calls')).toMatchObject({
      used: 12,
      remaining: 988,
    })
  })
})
