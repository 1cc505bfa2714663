import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asServiceRole, userClaims, withRollback, type Tx } from '../../helpers/db.ts'

// PostgREST picks the database role from the verified JWT's role claim, so the two agree in a
// real request. What decides is the database role: a request that runs as authenticated with a
// role claim of service_role (REVIEW L-2) is a user, and sees that user's rows only.

const usersSeen = async (tx: Tx, ids: string[]): Promise<string[]> => {
  const rows = await tx<{ user_id: string }[]>`
    select distinct user_id::text from tollgate.usage
    where user_id = any(${ids}::uuid[]) order by 1`
  return rows.map((row) => row.user_id)
}

describe('the usage view', () => {
  it("shows a role claim of service_role run as authenticated only the caller's rows", async ({
    sql,
    users,
  }) => {
    const caller = await users.create()
    const other = await users.create()
    const seen = await withRollback(sql, async (tx) => {
      await tx`
        select
          pg_catalog.set_config('role', 'authenticated', true),
          pg_catalog.set_config('request.jwt.claims',
            ${JSON.stringify({ ...userClaims(caller.id), role: 'service_role' })}, true)`
      return usersSeen(tx, [caller.id, other.id])
    })
    expect(seen).toEqual([caller.id])
  })

  it('shows the service role every user it asks about', async ({ sql, users }) => {
    const one = await users.create()
    const two = await users.create()
    const seen = await asServiceRole(sql, (tx) => usersSeen(tx, [one.id, two.id]))
    expect(seen).toEqual([one.id, two.id].sort())
  })
})
