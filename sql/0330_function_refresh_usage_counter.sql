create function tollgate_private.refresh_usage_counter(
  user_id uuid,
  metric text,
  as_of timestamptz,
  plan_id text,
  anchor timestamptz,
  valid_until timestamptz,
  baseline_plan_id text,
  paid_until timestamptz default null
)
returns tollgate_private.usage_counters
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_cur tollgate_private.usage_counters;
  v_limit tollgate.plan_limits;
  v_baseline tollgate.plan_limits;
  v_init tollgate_private.usage_counters;
  v_next tollgate_private.usage_counters;
begin
  select l.* into v_limit
  from tollgate.plan_limits l
  where l.plan_id = refresh_usage_counter.plan_id and l.metric = refresh_usage_counter.metric;

  select c.* into v_cur
  from tollgate_private.usage_counters c
  where c.user_id = refresh_usage_counter.user_id and c.metric = refresh_usage_counter.metric
  for update;

  if v_cur.user_id is null then
    if v_limit.plan_id is null then
      -- Not on the plan and never counted: nothing to keep.
      return null;
    end if;
    -- No counter yet: start from what the previous plan gave, so carry-over also works for a
    -- user who never consumed before upgrading.
    if refresh_usage_counter.baseline_plan_id is distinct from refresh_usage_counter.plan_id then
      select l.* into v_baseline
      from tollgate.plan_limits l
      where l.plan_id = refresh_usage_counter.baseline_plan_id and l.metric = refresh_usage_counter.metric;
    end if;
    if v_baseline.plan_id is not null then
      v_init := tollgate_private.next_counter_state(
        null, refresh_usage_counter.user_id, refresh_usage_counter.metric, v_baseline.plan_id,
        v_baseline.quota, v_baseline.period, v_baseline.carry_over, null, null, refresh_usage_counter.as_of);
    else
      v_init := tollgate_private.next_counter_state(
        null, refresh_usage_counter.user_id, refresh_usage_counter.metric, v_limit.plan_id,
        v_limit.quota, v_limit.period, v_limit.carry_over, refresh_usage_counter.anchor,
        refresh_usage_counter.valid_until, refresh_usage_counter.as_of, refresh_usage_counter.paid_until);
    end if;
    -- A new counter may have credits: a grant committed while this insert is in flight cannot set
    -- the hint on a row it does not see yet. A consume deciding on the locked row that finds none
    -- clears it (apply_usage).
    v_init.may_have_credits := true;
    -- Two first calls at once: one inserts, the other waits for it and then locks the row it made.
    insert into tollgate_private.usage_counters
    select (v_init).*
    on conflict on constraint usage_counters_pkey do nothing;

    select c.* into v_cur
    from tollgate_private.usage_counters c
    where c.user_id = refresh_usage_counter.user_id and c.metric = refresh_usage_counter.metric
    for update;
  end if;

  v_next := tollgate_private.next_counter_state(
    v_cur, refresh_usage_counter.user_id, refresh_usage_counter.metric, refresh_usage_counter.plan_id,
    coalesce(v_limit.quota, 0), coalesce(v_limit.period, v_cur.period), coalesce(v_limit.carry_over, false),
    refresh_usage_counter.anchor, refresh_usage_counter.valid_until, refresh_usage_counter.as_of,
    refresh_usage_counter.paid_until);

  if (v_next.plan_id, v_next.period, v_next.anchor, v_next.period_start, v_next.period_end,
      v_next.used, v_next.quota, v_next.base_quota, v_next.valid_until, v_next.carried)
    is distinct from (v_cur.plan_id, v_cur.period, v_cur.anchor, v_cur.period_start, v_cur.period_end,
      v_cur.used, v_cur.quota, v_cur.base_quota, v_cur.valid_until, v_cur.carried) then
    update tollgate_private.usage_counters c
    set plan_id = v_next.plan_id,
        period = v_next.period,
        anchor = v_next.anchor,
        period_start = v_next.period_start,
        period_end = v_next.period_end,
        used = v_next.used,
        quota = v_next.quota,
        base_quota = v_next.base_quota,
        valid_until = v_next.valid_until,
        carried = v_next.carried,
        updated_at = v_next.updated_at
    where c.user_id = refresh_usage_counter.user_id and c.metric = refresh_usage_counter.metric
    returning c.* into v_next;
    -- A plan change can leave what was used at or past 80 % or 100 % of the new quota without any
    -- consume crossing the line: notify here (once per metric and period, as apply_usage does).
    if v_next.quota > 0 and v_next.used >= v_next.quota - v_next.quota / 5 then
      perform tollgate_private.notify_quota(v_next,
        case when v_next.used >= v_next.quota then 'quota_exhausted' else 'quota_warning' end);
    end if;
  end if;
  return v_next;
end;
$$;

comment on function tollgate_private.refresh_usage_counter(uuid, text, timestamptz, text, timestamptz, timestamptz, text, timestamptz) is
  E'Locks one usage counter (creating it if missing) and brings it to the state next_counter_state gives for the plan passed in. Callers pass the entitlement (plan, anchor, valid_until, paid_until); baseline_plan_id is the plan a missing counter would have been on.';

revoke all on function tollgate_private.refresh_usage_counter(uuid, text, timestamptz, text, timestamptz, timestamptz, text, timestamptz) from public, anon, authenticated, service_role;
