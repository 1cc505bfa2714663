import { afterAll, describe, expect, it } from 'vitest'
import { asServiceRole, ownerSql, pgError } from '../../helpers/db.ts'
import { testUsers } from '../subscriptions/support.ts'
import { serviceConsume, serviceRelease } from './support.ts'

const sql = ownerSql()
const users = testUsers(sql)
afterAll(async () => {
  await users.drop()
  await sql.end()
})

describe('service_role_release_usage on a monthly metric', () => {
  it('refuses to give api_calls back and leaves the count (GAUGE)', async () => {
    const user = await users.create()
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

  it('refuses it for a user who never consumed it (GAUGE)', async () => {
    const user = await users.create()
    await expect(
      asServiceRole(sql, (tx) => serviceRelease(tx, user.id, 'api_calls', 1)),
    ).rejects.toHaveProperty('code', 'GAUGE')
  })
})
