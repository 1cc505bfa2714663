create function tollgate_private.next_counter_state(
  cur tollgate_private.usage_counters,
  user_id uuid,
  metric text,
  plan_id text,
  base_quota bigint,
  period text,
  carry_over boolean,
  anchor timestamptz,
  valid_until timestamptz,
  as_of timestamptz,
  paid_until timestamptz default null
)
returns tollgate_private.usage_counters
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v tollgate_private.usage_counters;
  v_window record;
  v_upgrade boolean;
  v_stay boolean := false;
  v_rolled boolean := false;
begin
  if (cur).user_id is null then
    v_window := tollgate_private.period_window(next_counter_state.period, next_counter_state.anchor, next_counter_state.as_of);
    v.user_id := next_counter_state.user_id;
    v.metric := next_counter_state.metric;
    v.plan_id := next_counter_state.plan_id;
    v.period := next_counter_state.period;
    v.anchor := next_counter_state.anchor;
    v.period_start := v_window.period_start;
    v.period_end := v_window.period_end;
    v.used := 0;
    v.carried := 0;
    v.quota := next_counter_state.base_quota;
    v.base_quota := next_counter_state.base_quota;
    v.valid_until := next_counter_state.valid_until;
    if next_counter_state.paid_until is not null and v.period = 'month'
      and v.period_start >= next_counter_state.paid_until and v.quota <> 0 then
      -- Not paid for (see below). Hourly and daily limits are rates of the plan held, not a paid
      -- allowance: they run on through the grace (a rate limit of 0 would be worse than free).
      v.quota := 0;
    end if;
    v.created_at := now();
    v.updated_at := now();
    return v;
  end if;

  v := cur;

  -- ROLL: an ended period is closed under the rules it was counted with; the next one starts
  -- from zero and without carried-over quota. Never earlier than the old end (anchor changes).
  -- Unless nothing pays for it: a monthly quota period never starts at or after paid_until, so the
  -- grace after an unpaid renewal keeps what was left of the last paid month until valid_until.
  -- Hourly and daily limits roll as usual: rates of the plan held, not an allowance paid for.
  if v.period_end is not null and v.period_end <= next_counter_state.as_of then
    v_window := tollgate_private.period_window(v.period, v.anchor, next_counter_state.as_of);
    if next_counter_state.paid_until is not null and v.period = 'month'
      and greatest(v_window.period_start, v.period_end) >= next_counter_state.paid_until
      and next_counter_state.valid_until > next_counter_state.as_of then
      v.period_end := next_counter_state.valid_until;
    else
      v.period_start := greatest(v_window.period_start, v.period_end);
      v.period_end := v_window.period_end;
      v.used := 0;
      v.carried := 0;
      v.quota := v.base_quota;
      v_rolled := true;
    end if;
  end if;

  -- FOLLOW THE PLAN (or a new anchor). One rule whatever the path: inside the period being
  -- counted nothing lowers used, and the quota is the plan's base plus the carry-over brought
  -- into the period, so any sequence of changes ends where the direct change would. Only a change
  -- that starts a new paid period (a paid plan whose window starts after the counted one: a new
  -- subscription, a paid order, a reset billing cycle, a trial ended early) starts from zero.
  if v.period <> next_counter_state.period then
    -- The metric resets on another schedule now: start a fresh period of the new kind.
    v_window := tollgate_private.period_window(next_counter_state.period, next_counter_state.anchor, next_counter_state.as_of);
    v.period_start := v_window.period_start;
    v.period_end := v_window.period_end;
    v.used := 0;
    v.carried := 0;
  elsif v.period <> 'never' and next_counter_state.as_of >= v.period_start then
    -- (A moment before the counted period, e.g. a transaction that started before another rolled
    -- it, never moves its bounds back.)
    v_window := tollgate_private.period_window(next_counter_state.period, next_counter_state.anchor, next_counter_state.as_of);
    if next_counter_state.paid_until is not null and next_counter_state.period = 'month'
      and v_window.period_start >= next_counter_state.paid_until
      and v.period_start < next_counter_state.paid_until and v.plan_id <> tollgate_private.free_plan_id() then
      -- The plan's window at as_of is not paid for: stay in the last paid period (ROLL runs it on).
      v_stay := true;
    elsif next_counter_state.plan_id <> tollgate_private.free_plan_id() and v_window.period_start > v.period_start then
      v_upgrade := v.plan_id is distinct from next_counter_state.plan_id
        and ((next_counter_state.base_quota = -1 and v.base_quota <> -1)
          or (v.base_quota <> -1 and next_counter_state.base_quota > v.base_quota));
      -- Carry-over (seed 003): the new period gets what the old one left, a debt when negative.
      v.carried := case
        when v_upgrade and next_counter_state.carry_over and v.quota <> -1 then v.quota - v.used
        else 0
      end;
      v.used := 0;
      v.period_start := v_window.period_start;
    elsif v_rolled then
      -- A fresh period (nothing counted yet) takes the plan's window as it is.
      v.period_start := v_window.period_start;
    else
      v.period_start := greatest(v_window.period_start, v.period_start);
    end if;
    if not v_stay then
      v.period_end := v_window.period_end;
    end if;
  end if;

  -- Carry-over is part of a paid period: kept through it, not granted on free.
  v.quota := case
    when next_counter_state.base_quota = -1 then -1
    when next_counter_state.plan_id = tollgate_private.free_plan_id() then next_counter_state.base_quota
    else greatest(next_counter_state.base_quota + v.carried, 0)
  end;
  -- A month that began at or after paid_until was not paid for: it gives nothing new.
  if next_counter_state.paid_until is not null and v.period = 'month'
    and v.period_start >= next_counter_state.paid_until
    and (v.quota = -1 or v.quota > v.used) then
    v.quota := v.used;
  end if;

  v.plan_id := next_counter_state.plan_id;
  v.period := next_counter_state.period;
  v.base_quota := next_counter_state.base_quota;
  -- A new anchor shapes the next period; the running one keeps its bounds.
  v.anchor := next_counter_state.anchor;
  v.valid_until := next_counter_state.valid_until;
  v.updated_at := now();
  return v;
end;
$$;

comment on function tollgate_private.next_counter_state(tollgate_private.usage_counters, uuid, text, text, bigint, text, boolean, timestamptz, timestamptz, timestamptz, timestamptz) is
  E'Pure rule: the state a usage counter must have at as_of for the plan the user is entitled to. An ended period rolls to a fresh one, unless a monthly one would start at or after paid_until (nothing paid for it): then the last paid period runs on until valid_until (grace keeps what was left, it opens no new quota). Inside the period being counted, a plan change never lowers used and the quota is the new plan''s base plus the carry-over brought into the period (kept, but not granted, while on free), so any sequence of changes ends where the direct change would. A change that starts a new paid period (a paid plan whose window starts after the counted one) starts used at 0; when it is an upgrade of a carry_over metric, the new period carries what the old one left (old quota - old used, a debt when negative). A monthly period starting at or after paid_until gets no quota beyond what it used; hourly and daily limits are rates of the plan held and run on through the grace. Gauges (never) keep their count across every change. Used by writers and by the usage view alike.';

revoke all on function tollgate_private.next_counter_state(tollgate_private.usage_counters, uuid, text, text, bigint, text, boolean, timestamptz, timestamptz, timestamptz, timestamptz) from public, anon, authenticated, service_role;
