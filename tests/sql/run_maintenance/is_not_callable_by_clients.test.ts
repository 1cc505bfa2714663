import { randomUUID } from 'node:crypto'
import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asAnon, asUser } from '../../helpers/db.ts'

describe('tollgate_private.run_maintenance', () => {
  // The as_of is far in the past so that, should the call get through, the rolled-back run
  // touches nothing another test file uses.
  it('cannot be executed by a signed-in user (42501)', async ({ sql }) => {
    await expect(
      asUser(sql, randomUUID(), (tx) => tx`select tollgate_private.run_maintenance('1990-01-01Z')`),
    ).rejects.toHaveProperty('code', '42501')
    const [row] = await sql<{ allowed: boolean }[]>`
      select has_function_privilege('authenticated',
        'tollgate_private.run_maintenance(timestamptz, integer)', 'execute') as allowed`
    expect(row).toEqual({ allowed: false })
  })

  it('cannot be executed by anon (42501)', async ({ sql }) => {
    await expect(
      asAnon(sql, (tx) => tx`select tollgate_private.run_maintenance('1990-01-01Z')`),
    ).rejects.toHaveProperty('code', '42501')
  })

  it('nor can its procedure maintain be called by a signed-in user or anon (42501)', async ({
    sql,
  }) => {
    await expect(
      asUser(sql, randomUUID(), (tx) => tx`call tollgate_private.maintain('1990-01-01Z', 1)`),
    ).rejects.toHaveProperty('code', '42501')
    await expect(
      asAnon(sql, (tx) => tx`call tollgate_private.maintain('1990-01-01Z', 1)`),
    ).rejects.toHaveProperty('code', '42501')
  })
})
