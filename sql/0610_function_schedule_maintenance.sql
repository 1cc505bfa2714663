create function tollgate_private.schedule_maintenance()
returns text
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  if not exists (select from pg_catalog.pg_extension where extname = 'pg_cron') then
    return 'pg_cron is not installed: run call tollgate_private.maintain() from another scheduler';
  end if;
  -- Dynamic SQL: the cron schema only exists where pg_cron does. The job is this one statement:
  -- a procedure that commits must be called on its own, outside any transaction block.
  execute 'select cron.schedule($1, $2, $3)'
    using 'tollgate-maintenance', '*/5 * * * *', 'call tollgate_private.maintain()';
  return 'scheduled tollgate-maintenance every 5 minutes';
end;
$$;

comment on function tollgate_private.schedule_maintenance() is
  E'Schedules call tollgate_private.maintain() every 5 minutes with pg_cron (same job name, so running it again only updates the job). Run it after enabling pg_cron.';

revoke all on function tollgate_private.schedule_maintenance() from public, anon, authenticated, service_role;
