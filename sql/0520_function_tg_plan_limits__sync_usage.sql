create function tollgate_private.tg_plan_limits__sync_usage()
returns trigger
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  -- Mark the counters on this plan and metric for a re-check; the next consume (or the scheduled
  -- maintenance) applies the new limit. Reads already show it. A limit added marks them too: a
  -- counter of a metric the plan lacked (kept at quota 0 by a plan change, or since the metric was
  -- removed) would otherwise still count as off the plan.
  if tg_op in ('INSERT', 'UPDATE') then
    update tollgate_private.usage_counters c
    set valid_until = '-infinity'
    where c.plan_id = new.plan_id and c.metric = new.metric;
  end if;
  if tg_op in ('UPDATE', 'DELETE') then
    update tollgate_private.usage_counters c
    set valid_until = '-infinity'
    where c.plan_id = old.plan_id and c.metric = old.metric;
  end if;
  return null;
end;
$$;

comment on function tollgate_private.tg_plan_limits__sync_usage() is
  E'Trigger: when an admin adds, edits or removes a plan limit, makes the counters on that plan and metric (before and after the change) pick up the change at their next use.';

revoke all on function tollgate_private.tg_plan_limits__sync_usage() from public, anon, authenticated, service_role;

create trigger _500_sync_usage
  after insert or update or delete on tollgate.plan_limits
  for each row execute function tollgate_private.tg_plan_limits__sync_usage();
