import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'
import { pgError, withRollback } from '../../helpers/db.ts'
import { appSchemaName } from './app_table.ts'

describe('a row quota trigger and a row without an owner', () => {
  it('refuses a row whose owner column is null (NOOWN)', async ({ sql }) => {
    await withRollback(sql, async (tx) => {
      const schema = appSchemaName()
      await tx.unsafe(`
        create schema ${schema};
        create table ${schema}.notes (id uuid primary key default gen_random_uuid(), owner_id uuid);
        create trigger _500_enforce_notes_quota
          after insert or delete or update of owner_id on ${schema}.notes
          for each row execute function tollgate_private.tg__enforce_row_quota('projects', 'owner_id');
      `)
      const error = await pgError(
        tx.savepoint((sp) => sp`insert into ${sp(schema)}.notes (owner_id) values (null)`),
      )
      expect(error.code).toBe('NOOWN')
    })
  })

  it('refuses every row when the trigger names a column the table lacks (NOOWN)', async ({
    sql,
  }) => {
    await withRollback(sql, async (tx) => {
      const schema = appSchemaName()
      const [owner] = await tx<{ id: string }[]>`select gen_random_uuid() as id`
      await tx.unsafe(`
        create schema ${schema};
        create table ${schema}.notes (id uuid primary key default gen_random_uuid(), user_id uuid);
        create trigger _500_enforce_notes_quota
          after insert on ${schema}.notes
          for each row execute function tollgate_private.tg__enforce_row_quota('projects', 'owner_id');
      `)
      const error = await pgError(
        tx.savepoint(
          (sp) => sp`insert into ${sp(schema)}.notes (user_id) values (${owner?.id ?? ''}::uuid)`,
        ),
      )
      expect(error.code).toBe('NOOWN')
    })
  })
})
