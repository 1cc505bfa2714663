create function tollgate_private.sync_usage_counters(user_id uuid, as_of timestamptz)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_entitlement record;
  v_baseline text;
  v_metric text;
begin
  select e.* into v_entitlement from tollgate_private.entitlement(sync_usage_counters.user_id, sync_usage_counters.as_of) e;

  -- The plan the counters were on before this change (free for a user who never had any).
  select c.plan_id into v_baseline
  from tollgate_private.usage_counters c
  where c.user_id = sync_usage_counters.user_id
  limit 1;

  -- Metric order: every writer that locks several counters of a user locks them in this order.
  for v_metric in
    select l.metric from tollgate.plan_limits l where l.plan_id = v_entitlement.plan_id
    union
    select c.metric from tollgate_private.usage_counters c where c.user_id = sync_usage_counters.user_id
    order by 1
  loop
    perform tollgate_private.refresh_usage_counter(
      sync_usage_counters.user_id, v_metric, sync_usage_counters.as_of, v_entitlement.plan_id,
      v_entitlement.anchor, v_entitlement.valid_until, coalesce(v_baseline, tollgate_private.free_plan_id()), v_entitlement.paid_until);
  end loop;
end;
$$;

comment on function tollgate_private.sync_usage_counters(uuid, timestamptz) is
  E'Makes every usage counter of a user follow the plan they are entitled to at as_of (called when their subscription changes), creating counters for the plan''s metrics.';

revoke all on function tollgate_private.sync_usage_counters(uuid, timestamptz) from public, anon, authenticated, service_role;
