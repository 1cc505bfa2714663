-- Scheduled maintenance where pg_cron exists; elsewhere the migration still applies and lazy
-- resets keep quotas right.
do $$
begin
  if exists (select from pg_catalog.pg_available_extensions where name = 'pg_cron')
    and not exists (select from pg_catalog.pg_extension where extname = 'pg_cron') then
    begin
      create extension pg_cron;
    exception when others then
      raise notice 'pg_cron is available but could not be enabled here (%); enable it and run tollgate_private.schedule_maintenance()', sqlerrm;
    end;
  end if;
  perform tollgate_private.schedule_maintenance();
end;
$$;
