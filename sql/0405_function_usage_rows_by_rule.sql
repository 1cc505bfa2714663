create function tollgate_private.usage_rows_by_rule(for_user_id uuid, as_of timestamptz)
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
  -- Computed with the same rule the writers use, so a read shows a lazy reset or a plan change
  -- before any write has happened (usage_rows answers from the stored counters when none is due). plpgsql, not sql: a SQL function with a pinned search_path is
  -- never inlined, so it was planned on every read; plpgsql keeps the plan for the session.
  return query
  select usage_rows_by_rule.for_user_id, l.metric, n.period, n.period_start, n.period_end, n.used, n.quota,
    case when n.quota = -1 then null else greatest(n.quota - n.used, 0) end,
    -- The counter's hint spares the credit lookup of users who hold none (a missing counter: look).
    case when c.user_id is not null and not c.may_have_credits then 0::bigint
      else tollgate_private.usable_credits(usage_rows_by_rule.for_user_id, l.metric, usage_rows_by_rule.as_of) end
  from tollgate_private.entitlement(usage_rows_by_rule.for_user_id, usage_rows_by_rule.as_of) e
  join tollgate.plan_limits l on l.plan_id = e.plan_id
  left join tollgate_private.usage_counters c
    on c.user_id = usage_rows_by_rule.for_user_id and c.metric = l.metric
  cross join lateral tollgate_private.next_counter_state(
    c, usage_rows_by_rule.for_user_id, l.metric, e.plan_id, l.quota, l.period, l.carry_over, e.anchor,
    e.valid_until, usage_rows_by_rule.as_of, e.paid_until) n
  order by l.metric;
end;
$$;

comment on function tollgate_private.usage_rows_by_rule(uuid, timestamptz) is
  E'usage_rows computed from the rule alone: the user''s entitlement at as_of, the plan''s limits and next_counter_state of each counter (a missing one as new), whatever the stored counters say. usage_rows answers this when a counter is due; the model test checks the two agree.';

revoke all on function tollgate_private.usage_rows_by_rule(uuid, timestamptz) from public, anon, authenticated, service_role;
