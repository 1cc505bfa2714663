import { afterAll, describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { pgError, withRollback } from '../../helpers/db.ts'
import {
  countProjects,
  createAppTable,
  insertProjects,
  projectsCounter,
  type AppTable,
} from './app_table.ts'

let table: AppTable
it.beforeAll(async ({ sql }) => {
  table = await createAppTable(sql)
})
afterAll(() => table?.drop())

describe('changing the owner of a counted row', () => {
  it('moves one unit from the old owner to the new one', async ({ sql, users }) => {
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

  it('counts nothing when the owner column is set to the same owner or another column changes', async ({
    sql,
    users,
  }) => {
    const alice = await users.create()
    await withRollback(sql, async (tx) => {
      await insertProjects(tx, table, alice.id, ['one'])
      await tx`update ${tx(table.schema)}.projects set user_id = user_id, name = 'renamed'`
      expect(await projectsCounter(tx, alice.id)).toEqual({ used: '1', quota: '3' })
    })
  })

  it('refuses moving a row to an owner whose quota is full, and leaves both counts (QUOTA)', async ({
    sql,
    users,
  }) => {
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
