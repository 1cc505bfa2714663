import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asAnon, asUser } from '../../helpers/db.ts'
import { serviceRelease } from './support.ts'

describe('who may release usage', () => {
  it('refuses a signed-in user calling service_role_release_usage (42501)', async ({
    sql,
    user,
  }) => {
    await expect(
      asUser(sql, user, (tx) => serviceRelease(tx, user.id, 'projects', 1)),
    ).rejects.toHaveProperty('code', '42501')
  })

  it('refuses a signed-in user calling the private release_usage (42501)', async ({
    sql,
    user,
  }) => {
    await expect(
      asUser(
        sql,
        user,
        (tx) => tx`
          select tollgate_private.release_usage(${user.id}::uuid, 'projects', 1, null, now())`,
      ),
    ).rejects.toHaveProperty('code', '42501')
  })

  it('refuses anon (42501)', async ({ sql, user }) => {
    await expect(
      asAnon(sql, (tx) => serviceRelease(tx, user.id, 'projects', 1)),
    ).rejects.toHaveProperty('code', '42501')
  })
})
