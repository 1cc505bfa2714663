import { afterAll, describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { asUser } from '../../helpers/db.ts'
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

describe('deleting a counted row', () => {
  it('releases its unit, so another row fits again', async ({ sql, user }) => {
    await asUser(sql, user, async (tx) => {
      await insertProjects(tx, table, user.id, ['one', 'two', 'three'])
      const deleted = await tx`
        delete from ${tx(table.schema)}.projects where name = 'two' returning id`
      expect(deleted).toHaveLength(1)
      expect(await projectsUsage(tx)).toEqual({ used: '2', quota: '3', remaining: '1' })

      expect(await insertProjects(tx, table, user.id, ['four'])).toBe(1)
      expect(await countProjects(tx, table, user.id)).toBe(3)
      expect(await projectsUsage(tx)).toEqual({ used: '3', quota: '3', remaining: '0' })
    })
  })

  it('releases every deleted row of a multi-row delete, down to zero', async ({ sql, user }) => {
    await asUser(sql, user, async (tx) => {
      await insertProjects(tx, table, user.id, ['one', 'two', 'three'])
      const deleted = await tx`delete from ${tx(table.schema)}.projects returning id`
      expect(deleted).toHaveLength(3)
      expect(await projectsUsage(tx)).toEqual({ used: '0', quota: '3', remaining: '3' })
    })
  })
})
