import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { pgError, withRollback } from '../../helpers/db.ts'
import { appSchemaName } from './app_table.ts'

describe('a row quota trigger created without arguments', () => {
  it('refuses every insert (TGCFG) and counts nothing', async ({ sql, user }) => {
    await withRollback(sql, async (tx) => {
      const schema = appSchemaName()
      await tx.unsafe(`
        create schema ${schema};
        create table ${schema}.projects (
          id uuid primary key default gen_random_uuid(),
          user_id uuid not null references auth.users (id)
        );
        create trigger _500_enforce_projects_quota
          after insert or delete or update of user_id on ${schema}.projects
          for each row execute function tollgate_private.tg__enforce_row_quota();
      `)
      const error = await pgError(
        tx.savepoint(
          (sp) => sp`insert into ${sp(schema)}.projects (user_id) values (${user.id}::uuid)`,
        ),
      )
      expect(error.code).toBe('TGCFG')
      const counters = await tx`
        select metric from tollgate_private.usage_counters where user_id = ${user.id}::uuid`
      expect(counters).toEqual([])
    })
  })
})
