import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asServiceRole } from '../../helpers/db.ts'
import { serviceRelease } from './support.ts'

describe('service_role_release_usage amounts', () => {
  it.for([[0], [-1], [null]])('refuses amount %s (INAMT)', async ([amount], { sql, user }) => {
    await expect(
      asServiceRole(sql, (tx) => serviceRelease(tx, user.id, 'storage_gb', amount)),
    ).rejects.toHaveProperty('code', 'INAMT')
  })
})
