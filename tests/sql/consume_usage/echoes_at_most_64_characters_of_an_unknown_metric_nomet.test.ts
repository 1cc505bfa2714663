import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asServiceRole, asUser, pgError } from '../../helpers/db.ts'
import { asPostgrestRequest } from '../raise_error/support.ts'

// A caller picks the metric name; the error must not send back whatever they sent (REVIEW Notes:
// a 100 kB name came back in the NOMET message). Called as PostgREST runs the request.

const HUGE = `a${'x'.repeat(100_000)}`
const MALFORMED_HUGE = `Not A Metric ${'y'.repeat(100_000)}`

type Body = { code: string; message: string; details: string | null; hint: string | null }

const bodyOf = (error: { code: string; message: string }): Body => {
  expect(error.code).toBe('PGRST')
  return JSON.parse(error.message) as Body
}

// Everything the error sends back, in one string.
const echoed = (body: Body): string => `${body.message}${body.details ?? ''}${body.hint ?? ''}`

describe('an unknown metric name of 100,000 characters', () => {
  it.for([
    ['well-formed but too long', HUGE],
    ['malformed', MALFORMED_HUGE],
  ])(
    'answers a signed-in caller NOMET, echoing 64 characters at most (%s)',
    async ([_, metric], { sql, user }) => {
      const error = await asUser(sql, user, async (tx) => {
        await asPostgrestRequest(tx)
        return pgError(tx`select tollgate.consume_usage(${metric})`)
      })
      const body = bodyOf(error)
      expect(body.code).toBe('NOMET')
      expect(echoed(body)).toContain(metric.slice(0, 64))
      expect(echoed(body)).not.toContain(metric.slice(0, 65))
      expect(echoed(body).length).toBeLessThan(300)
    },
  )

  it('answers the service role NOMET, echoing 64 characters at most', async ({ sql, user }) => {
    const error = await asServiceRole(sql, async (tx) => {
      await asPostgrestRequest(tx, 'POST', '/rpc/service_role_consume_usage')
      return pgError(tx`select tollgate.service_role_consume_usage(${user.id}::uuid, ${HUGE})`)
    })
    const body = bodyOf(error)
    expect(body.code).toBe('NOMET')
    expect(echoed(body)).not.toContain(HUGE.slice(0, 65))
    expect(echoed(body).length).toBeLessThan(300)
  })
})
