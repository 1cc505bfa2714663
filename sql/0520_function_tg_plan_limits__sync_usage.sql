create function tollgate_private.tg_plan_limits__sync_usage()
returns trigger
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  -- Mark the counters on this plan and metric for a re-check; the next consume (or the scheduled
  -- maintenance) applies the new limit. Reads already show it.
  update tollgate_private.usage_counters c
  set valid_until = '-infinity'
  where c.plan_id = old.plan_id and c.metric = old.metric;
  return null;
end;
$$;

comment on function tollgate_private.tg_plan_limits__sync_usage() is
  E'Trigger: when an admin edits or removes a plan limit, makes the counters on it pick up the change at their next use.';

revoke all on function tollgate_private.tg_plan_limits__sync_usage() from public, anon, authenticated, service_role;

create trigger _500_sync_usage
  after update or delete on tollgate.plan_limits
  for each row execute function tollgate_private.tg_plan_limits__sync_usage();
