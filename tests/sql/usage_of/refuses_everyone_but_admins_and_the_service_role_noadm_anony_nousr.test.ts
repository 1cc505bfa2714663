import { randomUUID } from 'node:crypto'
import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import {
  asAdmin,
  asAnon,
  asClaims,
  asServiceRole,
  asUser,
  pgError,
  userClaims,
  type Sql,
  type Tx,
} from '../../helpers/db.ts'
import { asPostgrestRequest } from '../raise_error/support.ts'

// The PostgREST answer of a refused call: `RAISE SQLSTATE 'PGRST'` carries code and status.
const refusal = async (tx: Tx, userId: string) => {
  await asPostgrestRequest(tx, 'POST', '/rpc/usage_of')
  const error = await pgError(tx`select * from tollgate.usage_of(${userId}::uuid)`)
  expect(error.code).toBe('PGRST')
  return {
    code: (JSON.parse(error.message) as { code: string }).code,
    status: (JSON.parse(error.detail ?? '{}') as { status: number }).status,
  }
}

describe('tollgate.usage_of', () => {
  it("answers a signed-in user 403 NOADM, for another user's id or their own", async ({
    sql,
    user,
    users,
  }) => {
    const other = await users.create()
    expect(await asUser(sql, user, (tx) => refusal(tx, other.id))).toEqual({
      code: 'NOADM',
      status: 403,
    })
    expect(await asUser(sql, user, (tx) => refusal(tx, user.id))).toEqual({
      code: 'NOADM',
      status: 403,
    })
  })

  it('answers a role claim of service_role run as authenticated 403 NOADM', async ({
    sql,
    user,
  }) => {
    const forged = { ...userClaims(user.id), role: 'service_role' }
    const answer = await withRole(sql, forged, (tx) => refusal(tx, user.id))
    expect(answer).toEqual({ code: 'NOADM', status: 403 })
  })

  it('answers an anonymous user 403 ANONY, even one whose app_metadata says admin', async ({
    sql,
    user,
  }) => {
    const anonymous = { ...userClaims(user.id, { admin: true }), is_anonymous: true }
    expect(await asClaims(sql, anonymous, (tx) => refusal(tx, user.id))).toEqual({
      code: 'ANONY',
      status: 403,
    })
  })

  it('is not executable by anon (42501)', async ({ sql, user }) => {
    const error = await asAnon(sql, (tx) =>
      pgError(tx`select * from tollgate.usage_of(${user.id}::uuid)`),
    )
    expect(error.code).toBe('42501')
  })

  it.for(['admin', 'service_role'] as const)(
    'answers %s 404 NOUSR for a user that does not exist',
    async (caller, { sql, admin }) => {
      const unknown = randomUUID()
      const answer =
        caller === 'admin'
          ? await asAdmin(sql, admin, (tx) => refusal(tx, unknown))
          : await asServiceRole(sql, (tx) => refusal(tx, unknown))
      expect(answer).toEqual({ code: 'NOUSR', status: 404 })
    },
  )
})

// The database role authenticated with these claims, whatever their role claim says.
const withRole = <T>(sql: Sql, claims: Record<string, unknown>, fn: (tx: Tx) => Promise<T>) =>
  asClaims(sql, { ...claims, role: 'authenticated' }, async (tx) => {
    await tx`select pg_catalog.set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`
    return fn(tx)
  })
