import { afterAll, describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { pgError, withRollback } from '../../helpers/db.ts'
import { actAs, actAsOwner, insertSubscription } from '../subscriptions/support.ts'
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

describe('a row quota after an upgrade to pro', () => {
  it('raises the limit to 100 and keeps the rows already counted', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      await actAs(tx, user.claims)
      await insertProjects(tx, table, user.id, ['one', 'two', 'three'])
      const refused = await pgError(
        tx.savepoint((sp) => insertProjects(sp, table, user.id, ['four'])),
      )
      expect(refused.code).toBe('QUOTA')

      // Subscriptions are written by Tollgate (the owner), never by the user.
      await actAsOwner(tx)
      await insertSubscription(tx, user.id, { planId: 'pro' })

      await actAs(tx, user.claims)
      expect(await projectsUsage(tx)).toEqual({ used: '3', quota: '100', remaining: '97' })
      expect(await insertProjects(tx, table, user.id, ['four'])).toBe(1)
      expect(await countProjects(tx, table, user.id)).toBe(4)
      expect(await projectsUsage(tx)).toEqual({ used: '4', quota: '100', remaining: '96' })
    })
  })
})
