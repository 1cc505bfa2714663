import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'

// pg_cron is not packaged here; where it exists the same function schedules
// `call tollgate_private.maintain()` (the migration runs it).
describe('tollgate_private.schedule_maintenance without pg_cron', () => {
  it('schedules nothing and names the procedure another scheduler must call', async ({ sql }) => {
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
