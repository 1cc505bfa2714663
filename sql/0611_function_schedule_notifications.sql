create function tollgate_private.schedule_notifications()
returns text
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_missing text[] := array(
    select e from pg_catalog.unnest(array['pg_cron', 'pg_net']) e
    where not exists (select from pg_catalog.pg_extension x where x.extname = e)
    order by e);
begin
  if pg_catalog.cardinality(v_missing) > 0 then
    return format('%s not installed: call POST /functions/v1/notifications/dispatch with the service role key from another scheduler (every minute)',
      pg_catalog.array_to_string(v_missing, ' and ') || case when pg_catalog.cardinality(v_missing) = 1 then ' is' else ' are' end);
  end if;
  -- Dynamic SQL: the cron and net schemas only exist where the extensions do. The job reads the
  -- project URL and the service role key from Supabase Vault when it runs, so no secret is stored
  -- in cron.job.
  execute 'select cron.schedule($1, $2, $3)'
    using 'tollgate-notifications', '* * * * *',
      $job$select net.http_post(
  url := (select decrypted_secret from vault.decrypted_secrets where name = 'tollgate_project_url')
    || '/functions/v1/notifications/dispatch',
  headers := jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' ||
    (select decrypted_secret from vault.decrypted_secrets where name = 'tollgate_service_role_key')),
  body := '{}'::jsonb)$job$;
  return 'scheduled tollgate-notifications every minute (reads the Vault secrets tollgate_project_url and tollgate_service_role_key)';
end;
$$;

comment on function tollgate_private.schedule_notifications() is
  E'Schedules the notifications worker every minute with pg_cron and pg_net: POST <tollgate_project_url>/functions/v1/notifications/dispatch with the service role key, both read from Supabase Vault when the job runs (same job name, so running it again only updates the job). Without pg_cron or pg_net it schedules nothing and says what is missing.';

revoke all on function tollgate_private.schedule_notifications() from public, anon, authenticated, service_role;
