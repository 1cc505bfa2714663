import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { asUser, ownerSql, pgError } from '../../helpers/db.ts'
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

describe('a multi-row insert crossing the quota', () => {
  it('fails as a whole and counts none of its rows (QUOTA)', async () => {
    const user = await users.create()
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
