import { describe, expect } from 'vitest'
import { it, subscribe } from './support.ts'

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$/

describe('myUsage()', () => {
  it('shows the free plan’s metrics, by metric, with numbers as numbers', async ({ stack }) => {
    const { tollgate } = await stack.signIn()
    await tollgate.consume('api_calls', 40)

    const before = Date.now()
    const usage = await tollgate.myUsage()
    const after = Date.now()

    expect(usage).toEqual([
      {
        metric: 'api_calls',
        period: 'month',
        period_start: expect.stringMatching(ISO),
        period_end: expect.stringMatching(ISO),
        used: 40,
        quota: 1000,
        remaining: 960,
        credits: 0,
      },
      {
        metric: 'api_keys',
        period: 'never',
        period_start: expect.stringMatching(ISO),
        period_end: null,
        used: 0,
        quota: 2,
        remaining: 2,
        credits: 0,
      },
      {
        metric: 'projects',
        period: 'never',
        period_start: expect.stringMatching(ISO),
        period_end: null,
        used: 0,
        quota: 3,
        remaining: 3,
        credits: 0,
      },
      {
        metric: 'requests',
        period: 'hour',
        period_start: expect.stringMatching(ISO),
        period_end: expect.stringMatching(ISO),
        used: 0,
        quota: 100,
        remaining: 100,
        credits: 0,
      },
      {
        metric: 'storage_gb',
        period: 'never',
        period_start: expect.stringMatching(ISO),
        period_end: null,
        used: 0,
        quota: 1,
        remaining: 1,
        credits: 0,
      },
    ])
    const [apiCalls, , , requests] = usage
    expect(Date.parse(String(apiCalls?.period_start))).toBeLessThanOrEqual(after)
    expect(Date.parse(String(apiCalls?.period_end))).toBeGreaterThan(before)
    // requests counts by the UTC hour: the whole hour the call was answered in.
    const hourStart = Date.parse(String(requests?.period_start))
    expect(hourStart % 3_600_000).toBe(0)
    expect(Date.parse(String(requests?.period_end))).toBe(hourStart + 3_600_000)
    expect(hourStart).toBeLessThanOrEqual(after)
    expect(hourStart + 3_600_000).toBeGreaterThan(before)
  })

  it('follows the plan: carried-over quota on pro, unlimited (-1, remaining null) on enterprise', async ({
    stack,
  }) => {
    const pro = await stack.signIn()
    await pro.tollgate.consume('api_calls', 100)
    await subscribe(stack.sql, pro.id, 'pro')
    const enterprise = await stack.signIn()
    await subscribe(stack.sql, enterprise.id, 'enterprise')

    // A new billing month starts; api_calls carries over what free left: 100000 + (1000 - 100).
    expect(await pro.tollgate.myUsage()).toEqual([
      expect.objectContaining({ metric: 'api_calls', used: 0, quota: 100900, remaining: 100900 }),
      expect.objectContaining({ metric: 'api_keys', used: 0, quota: 20, remaining: 20 }),
      expect.objectContaining({ metric: 'projects', used: 0, quota: 100, remaining: 100 }),
      expect.objectContaining({ metric: 'requests', used: 0, quota: 1000, remaining: 1000 }),
      expect.objectContaining({ metric: 'storage_gb', used: 0, quota: 50, remaining: 50 }),
    ])
    expect(
      (await enterprise.tollgate.myUsage()).map(({ metric, quota, remaining }) => ({
        metric,
        quota,
        remaining,
      })),
    ).toEqual([
      { metric: 'api_calls', quota: 1000000 + 1000, remaining: 1000000 + 1000 },
      { metric: 'api_keys', quota: -1, remaining: null },
      { metric: 'projects', quota: -1, remaining: null },
      { metric: 'requests', quota: 10000, remaining: 10000 },
      { metric: 'storage_gb', quota: 500, remaining: 500 },
    ])
  })
})
