import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ownerSql, pgError, withRollback } from '../../helpers/db.ts'
import { testUsers } from '../subscriptions/support.ts'
import {
  countProjects,
  createAppTable,
  insertProjects,
  projectsCounter,
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

describe('changing the owner of a counted row', () => {
  it('moves one unit from the old owner to the new one', async () => {
    const [alice, bob] = [await users.create(), await users.create()]
    await withRollback(sql, async (tx) => {
      await insertProjects(tx, table, alice.id, ['shared', 'own'])
      const moved = await tx`
        update ${tx(table.schema)}.projects set user_id = ${bob.id}::uuid
        where user_id = ${alice.id}::uuid and name = 'shared' returning id`
      expect(moved).toHaveLength(1)
      expect(await projectsCounter(tx, alice.id)).toEqual({ used: '1', quota: '3' })
      expect(await projectsCounter(tx, bob.id)).toEqual({ used: '1', quota: '3' })
    })
  })

  it('counts nothing when the owner column is set to the same owner or another column changes', async () => {
    const alice = await users.create()
    await withRollback(sql, async (tx) => {
      await insertProjects(tx, table, alice.id, ['one'])
      await tx`update ${tx(table.schema)}.projects set user_id = user_id, name = 'renamed'`
      expect(await projectsCounter(tx, alice.id)).toEqual({ used: '1', quota: '3' })
    })
  })

  it('refuses moving a row to an owner whose quota is full, and leaves both counts (QUOTA)', async () => {
    const [alice, bob] = [await users.create(), await users.create()]
    await withRollback(sql, async (tx) => {
      await insertProjects(tx, table, alice.id, ['mine'])
      await insertProjects(tx, table, bob.id, ['one', 'two', 'three'])
      const error = await pgError(
        tx.savepoint(
          (sp) => sp`
            update ${sp(table.schema)}.projects set user_id = ${bob.id}::uuid
            where user_id = ${alice.id}::uuid`,
        ),
      )
      expect(error.code).toBe('QUOTA')
      expect(await countProjects(tx, table, alice.id)).toBe(1)
      expect(await projectsCounter(tx, alice.id)).toEqual({ used: '1', quota: '3' })
      expect(await projectsCounter(tx, bob.id)).toEqual({ used: '3', quota: '3' })
    })
  })
})
