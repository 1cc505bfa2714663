import { Agent, request } from 'node:http'
import { afterAll, beforeAll, describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { endPool, makeKey, serveMetering } from './support.ts'

let server: Awaited<ReturnType<typeof serveMetering>>
beforeAll(async () => {
  server = await serveMetering()
})
afterAll(async () => {
  await server.stop()
  await endPool()
})

type Reply = { status: number; headers: Record<string, string | string[] | undefined>; body: any }

// One POST on its own keep-alive connection of `agent`.
const consume = (agent: Agent, key: string): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const req = request(`${server.base}/metering/consume`, {
      method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    }, (res) => {
      let text = ''
      res.on('data', (chunk) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }))
    })
    req.on('error', reject)
    req.end(JSON.stringify({ metric: 'api_calls' }))
  })

describe('the hourly requests limit over HTTP', () => {
  it('gives a free user 100 requests an hour across 16 connections, then 429 RATEL with Retry-After', async ({ sql, user }) => {
    const { key } = await makeKey(sql, user)
    // 16 clients, each on its own connection, 8 requests each, all at once.
    const agents = Array.from({ length: 16 }, () => new Agent({ keepAlive: true, maxSockets: 1 }))
    try {
      const replies = (await Promise.all(agents.map(async (agent) => {
        const mine: Reply[] = []
        for (let i = 0; i < 8; i += 1) mine.push(await consume(agent, key))
        return mine
      }))).flat()
      const ok = replies.filter((r) => r.status === 200)
      const limited = replies.filter((r) => r.status === 429)
      expect({ ok: ok.length, limited: limited.length }).toEqual({ ok: 100, limited: 28 })
      expect(ok.map((r) => Number(r.headers['x-ratelimit-remaining'])).sort((a, b) => b - a)).toEqual(
        Array.from({ length: 100 }, (_, i) => 99 - i))
      const nextHour = Math.ceil((Date.now() + 1) / 3_600_000) * 3600
      for (const r of limited) {
        expect(r.body).toMatchObject({ code: 'RATEL', details: { limit: 100, reset: nextHour } })
        expect(r.headers).toMatchObject({ 'x-ratelimit-limit': '100', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(nextHour) })
        const retryAfter = Number(r.headers['retry-after'])
        expect(Math.abs(retryAfter - (nextHour - Date.now() / 1000))).toBeLessThan(5)
      }
      const [{ used }] = await sql`select used from tollgate_private.usage_counters where user_id = ${user.id} and metric = 'api_calls'`
      expect(Number(used)).toBe(100)
    } finally {
      for (const agent of agents) agent.destroy()
    }
  })
})
