create function tollgate_private.usage_rows(for_user_id uuid, as_of timestamptz)
returns table (
  user_id uuid,
  metric text,
  period text,
  period_start timestamptz,
  period_end timestamptz,
  used bigint,
  quota bigint,
  remaining bigint,
  credits bigint
)
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  -- STORED: the counters are what the writers count against. apply_usage counts on a counter whose
  -- period has not ended and whose plan need not be checked again (valid_until) without asking the
  -- rule, because every input of the rule refreshes them or marks them due: a subscription change
  -- (_500_sync_usage), a plan limit added, edited or removed (0520), the grace setting (0525). When
  -- every counter of the user is such a counter, all of one plan, they are the answer for their
  -- metrics: one index scan, no entitlement. A metric of the plan never counted has no counter: on
  -- free (whose entitlement has no anchor, paid_until or valid_until) it is the rule's new counter;
  -- on another plan the rule decides. Otherwise (a period ended, a plan due for a re-check, no
  -- counter at all) the rule computes every row: usage_rows_by_rule.
  return query
  with c as (
    select c.*
    from tollgate_private.usage_counters c
    where c.user_id = usage_rows.for_user_id
  ),
  stored as (
    select min(c.plan_id) as plan_id
    from c
    having bool_and((c.period_end is null or c.period_end > usage_rows.as_of)
        and (c.valid_until is null or c.valid_until > usage_rows.as_of))
      and min(c.plan_id) = max(c.plan_id)
  ),
  p as (
    select s.plan_id, s.plan_id = tollgate_private.free_plan_id() as free
    from stored s
  ),
  r as (
    select c.metric, c.period, c.period_start, c.period_end, c.used, c.quota, c.may_have_credits
    from p
    join c on c.plan_id = p.plan_id
    join tollgate.plan_limits l on l.plan_id = c.plan_id and l.metric = c.metric
    union all
    select l.metric, n.period, n.period_start, n.period_end, n.used, n.quota, true
    from p
    join tollgate.plan_limits l on l.plan_id = p.plan_id
    cross join lateral tollgate_private.next_counter_state(
      null::tollgate_private.usage_counters, usage_rows.for_user_id, l.metric, l.plan_id, l.quota,
      l.period, l.carry_over, null, null, usage_rows.as_of) n
    where p.free and not exists (select from c where c.metric = l.metric)
  )
  select usage_rows.for_user_id, r.metric, r.period, r.period_start, r.period_end, r.used, r.quota,
    case when r.quota = -1 then null else greatest(r.quota - r.used, 0) end,
    -- The counter's hint spares the credit lookup of users who hold none; a counter made before
    -- any count keeps it set (0330), so one probe first: no grant with anything left, no lookups.
    case when not r.may_have_credits
        or not exists (select from tollgate.credit_balances g
          where g.user_id = usage_rows.for_user_id and g.remaining > 0) then 0::bigint
      else tollgate_private.usable_credits(usage_rows.for_user_id, r.metric, usage_rows.as_of) end
  from r
  -- All or nothing: on a plan other than free, every metric has its counter.
  where (select p.free or not exists (
      select from tollgate.plan_limits l
      where l.plan_id = p.plan_id and not exists (select from c where c.metric = l.metric))
    from p)
  order by r.metric;
  if found then
    return;
  end if;
  -- None stored, or one due: the rule (a plan without metrics answers no rows either way).
  return query select r.* from tollgate_private.usage_rows_by_rule(usage_rows.for_user_id, usage_rows.as_of) r;
end;
$$;

comment on function tollgate_private.usage_rows(uuid, timestamptz) is
  E'One row per metric of the plan a user is on at as_of: period bounds, used, quota (-1 = unlimited), remaining (null when unlimited) and credits (usable credits of the metric at as_of, used once the quota is spent). Read from the stored counters when every one is current (its period not ended, its plan not due for a re-check: what apply_usage counts against) and all are of one plan, each metric of which has one (on free, a metric never counted is the rule''s new counter); else computed by the rule (usage_rows_by_rule).';

revoke all on function tollgate_private.usage_rows(uuid, timestamptz) from public, anon, authenticated, service_role;
