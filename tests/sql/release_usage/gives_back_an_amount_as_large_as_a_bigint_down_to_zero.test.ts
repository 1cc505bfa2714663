import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asServiceRole } from '../../helpers/db.ts'
import { asPostgrestRequest } from '../raise_error/support.ts'
import { ledgerOf } from '../consume_usage/support.ts'
import { serviceConsume } from './support.ts'

// The largest amount a caller can send (REVIEW Notes: 9223372036854775807 overflowed consume)
// is given back like any other, floored at zero, keyed or not, as PostgREST runs the request.

const MAX = '9223372036854775807'

describe('service_role_release_usage of 9223372036854775807', () => {
  it('gives a gauge back down to zero', async ({ sql, user }) => {
    const answers = await asServiceRole(
      sql,
      async (tx) => {
        expect(await serviceConsume(tx, user.id, 'projects', 2)).toMatchObject({ used: 2 })
        await asPostgrestRequest(tx, 'POST', '/rpc/service_role_release_usage')
        const rows = []
        for (const key of [null, 'release-everything']) {
          const [row] = await tx<{ allowed: boolean; used: string }[]>`
            select a ->> 'allowed' = 'true' as allowed, a ->> 'used' as used
            from tollgate.service_role_release_usage(
              ${user.id}::uuid, 'projects', ${MAX}::bigint, ${key}::text) as a`
          rows.push(row)
        }
        return rows
      },
      { commit: true },
    )
    expect(answers).toEqual([
      { allowed: true, used: '0' },
      { allowed: true, used: '0' },
    ])
    expect((await ledgerOf(sql, user.id)).map((row) => row.amount)).toEqual([
      2,
      -Number(MAX),
      -Number(MAX),
    ])
  })
})
