import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { asUser, ownerSql } from '../../helpers/db.ts'
import { testUsers } from '../subscriptions/support.ts'
import {
  countProjects,
  createAppTable,
  insertProjects,
  projectsUsage,
  type AppTable,
} from './app_table.ts'

const sql = ownerSql()
const users = testUsers(sql)
let table: AppTable
beforeAll(async () => {
  table = await createAppTable(sql)
})
afterAll(async () => {
  await table?.drop()
  await users.drop()
  await sql.end()
})

describe('deleting a counted row', () => {
  it('releases its unit, so another row fits again', async () => {
    const user = await users.create()
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

  it('releases every deleted row of a multi-row delete, down to zero', async () => {
    const user = await users.create()
    await asUser(sql, user, async (tx) => {
      await insertProjects(tx, table, user.id, ['one', 'two', 'three'])
      const deleted = await tx`delete from ${tx(table.schema)}.projects returning id`
      expect(deleted).toHaveLength(3)
      expect(await projectsUsage(tx)).toEqual({ used: '0', quota: '3', remaining: '3' })
    })
  })
})
