import { afterAll, describe, expect, it } from 'vitest'
import { asServiceRole, ownerSql } from '../../helpers/db.ts'
import { testUsers } from '../subscriptions/support.ts'
import { serviceRelease } from './support.ts'

const sql = ownerSql()
const users = testUsers(sql)
afterAll(async () => {
  await users.drop()
  await sql.end()
})

describe('service_role_release_usage amounts', () => {
  it.each([0, -1, null])('refuses amount %s (INAMT)', async (amount) => {
    const user = await users.create()
    await expect(
      asServiceRole(sql, (tx) => serviceRelease(tx, user.id, 'storage_gb', amount)),
    ).rejects.toHaveProperty('code', 'INAMT')
  })
})
