import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asServiceRole, pgError } from '../../helpers/db.ts'
import { serviceConsume, serviceRelease } from './support.ts'

describe('service_role_release_usage on a monthly metric', () => {
  it('refuses to give api_calls back and leaves the count (GAUGE)', async ({ sql, user }) => {
    await asServiceRole(sql, async (tx) => {
      await serviceConsume(tx, user.id, 'api_calls', 10)
      const error = await pgError(tx.savepoint((sp) => serviceRelease(sp, user.id, 'api_calls', 5)))
      expect(error.code).toBe('GAUGE')
      expect(await serviceConsume(tx, user.id, 'api_calls', 1)).toMatchObject({
        allowed: true,
        used: 11,
        quota: 1000,
      })
    })
  })

  it('refuses it for a user who never consumed it (GAUGE)', async ({ sql, user }) => {
    await expect(
      asServiceRole(sql, (tx) => serviceRelease(tx, user.id, 'api_calls', 1)),
    ).rejects.toHaveProperty('code', 'GAUGE')
  })
})
