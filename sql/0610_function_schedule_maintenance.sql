create function tollgate_private.schedule_maintenance()
returns text
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  if not exists (select from pg_catalog.pg_extension where extname = 'pg_cron') then
    return 'pg_cron is not installed: run tollgate_private.run_maintenance(now()) from another scheduler';
  end if;
  -- Dynamic SQL: the cron schema only exists where pg_cron does.
  execute 'select cron.schedule($1, $2, $3)'
    using 'tollgate-maintenance', '*/5 * * * *', 'select tollgate_private.run_maintenance(now())';
  return 'scheduled tollgate-maintenance every 5 minutes';
end;
$$;

comment on function tollgate_private.schedule_maintenance() is
  E'Schedules run_maintenance every 5 minutes with pg_cron (same job name, so running it again only updates the job). Run it after enabling pg_cron.';

revoke all on function tollgate_private.schedule_maintenance() from public, anon, authenticated, service_role;
