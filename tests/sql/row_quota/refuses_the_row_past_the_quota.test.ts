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

describe('a row quota on an app table', () => {
  it('lets a free user insert 3 projects and refuses the 4th (QUOTA)', async ({ sql, user }) => {
    await asUser(sql, user, async (tx) => {
      for (const name of ['one', 'two', 'three']) {
        expect(await insertProjects(tx, table, user.id, [name])).toBe(1)
      }
      expect(await projectsUsage(tx)).toEqual({ used: '3', quota: '3', remaining: '0' })

      const error = await pgError(
        tx.savepoint((sp) => insertProjects(sp, table, user.id, ['four'])),
      )
      expect(error.code).toBe('QUOTA')
      expect(await countProjects(tx, table, user.id)).toBe(3)
      expect(await projectsUsage(tx)).toEqual({ used: '3', quota: '3', remaining: '0' })
    })
  })
})
