import { describe, expect } from 'vitest'
import { it } from '../../helpers/fixtures.ts'

// Neither pg_cron nor pg_net is packaged here; on Supabase the same function schedules the worker.
describe('tollgate_private.schedule_notifications without pg_cron and pg_net', () => {
  it('schedules nothing and says what is missing and what to call instead', async ({ sql }) => {
    const [row] = await sql<{ installed: string[]; message: string; cron: boolean }[]>`
      select array(select extname::text from pg_catalog.pg_extension
          where extname in ('pg_cron', 'pg_net')) as installed,
        tollgate_private.schedule_notifications() as message,
        pg_catalog.to_regnamespace('cron') is not null as cron`
    expect(row).toEqual({
      installed: [],
      cron: false,
      message:
        'pg_cron and pg_net are not installed: call POST /functions/v1/notifications/dispatch with the service role key from another scheduler (every minute)',
    })
  })
})
