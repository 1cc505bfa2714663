import { afterAll, describe, expect, it } from 'vitest'
import { ownerSql } from '../../helpers/db.ts'

const sql = ownerSql()
afterAll(() => sql.end())

// pg_cron is not packaged here; where it exists the same function schedules
// `call tollgate_private.maintain()` (the migration runs it).
describe('tollgate_private.schedule_maintenance without pg_cron', () => {
  it('schedules nothing and names the procedure another scheduler must call', async () => {
    const [row] = await sql<{ installed: boolean; message: string }[]>`
      select exists (select from pg_catalog.pg_extension where extname = 'pg_cron') as installed,
        tollgate_private.schedule_maintenance() as message`
    expect(row).toEqual({
      installed: false,
      message:
        'pg_cron is not installed: run call tollgate_private.maintain() from another scheduler',
    })
  })
})
