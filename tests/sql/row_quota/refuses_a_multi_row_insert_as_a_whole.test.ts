import { afterAll, describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asUser, pgError } from '../../helpers/db.ts'
import {
  countProjects,
  createAppTable,
  insertProjects,
  projectsUsage,
  type AppTable,
} from './app_table.ts'

let table: AppTable
it.beforeAll(async ({ sql }) => {
  table = await createAppTable(sql)
})
afterAll(() => table?.drop())

describe('a multi-row insert crossing the quota', () => {
  it('fails as a whole and counts none of its rows (QUOTA)', async ({ sql, user }) => {
    await asUser(sql, user, async (tx) => {
      await insertProjects(tx, table, user.id, ['one'])
      const error = await pgError(
        tx.savepoint((sp) => insertProjects(sp, table, user.id, ['two', 'three', 'four'])),
      )
      expect(error.code).toBe('QUOTA')
      expect(await countProjects(tx, table, user.id)).toBe(1)
      expect(await projectsUsage(tx)).toEqual({ used: '1', quota: '3', remaining: '2' })

      // What still fits goes in.
      expect(await insertProjects(tx, table, user.id, ['two', 'three'])).toBe(2)
      expect(await projectsUsage(tx)).toEqual({ used: '3', quota: '3', remaining: '0' })
    })
  })
})
