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
  as_of timestamptz
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
  v_bonus bigint;
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
    v.quota := next_counter_state.base_quota;
    v.base_quota := next_counter_state.base_quota;
    v.valid_until := next_counter_state.valid_until;
    v.created_at := now();
    v.updated_at := now();
    return v;
  end if;

  v := cur;

  -- ROLL: an ended period is closed under the rules it was counted with; the next one starts
  -- from zero and without carried-over quota. Never earlier than the old end (anchor changes).
  if v.period_end is not null and v.period_end <= next_counter_state.as_of then
    v_window := tollgate_private.period_window(v.period, v.anchor, next_counter_state.as_of);
    v.period_start := greatest(v_window.period_start, v.period_end);
    v.period_end := v_window.period_end;
    v.used := 0;
    v.quota := v.base_quota;
  end if;

  -- FOLLOW THE PLAN
  if v.period <> next_counter_state.period then
    -- The metric resets on another schedule now: start a fresh period of the new kind.
    v_window := tollgate_private.period_window(next_counter_state.period, next_counter_state.anchor, next_counter_state.as_of);
    v.period_start := v_window.period_start;
    v.period_end := v_window.period_end;
    v.used := 0;
    v.quota := next_counter_state.base_quota;
  elsif v.plan_id is distinct from next_counter_state.plan_id then
    v_upgrade := (next_counter_state.base_quota = -1 and v.base_quota <> -1)
      or (v.base_quota <> -1 and next_counter_state.base_quota > v.base_quota);
    if v.period = 'never' then
      -- A gauge counts what exists (projects, storage): the count survives any plan change.
      v.quota := next_counter_state.base_quota;
    else
      v_window := tollgate_private.period_window(next_counter_state.period, next_counter_state.anchor, next_counter_state.as_of);
      if v_upgrade and next_counter_state.carry_over and v.quota <> -1 then
        -- Carry-over: new quota for this period = new base + (old quota - old used).
        v.quota := case
          when next_counter_state.base_quota = -1 then -1
          else next_counter_state.base_quota + greatest(v.quota - v.used, 0)
        end;
        v.used := 0;
      elsif v_upgrade then
        v.quota := next_counter_state.base_quota;
        if v_window.period_start <> v.period_start then
          v.used := 0;
        end if;
      else
        -- Downgrade (or same size): usage already counted stays counted.
        v.quota := next_counter_state.base_quota;
      end if;
      v.period_start := v_window.period_start;
      v.period_end := v_window.period_end;
    end if;
  elsif v.base_quota <> next_counter_state.base_quota then
    -- Same plan, its limit was edited: any carried-over amount stays on top of the new base.
    v_bonus := case when v.quota = -1 or v.base_quota = -1 then 0 else v.quota - v.base_quota end;
    v.quota := case
      when next_counter_state.base_quota = -1 then -1
      else next_counter_state.base_quota + v_bonus
    end;
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

comment on function tollgate_private.next_counter_state(tollgate_private.usage_counters, uuid, text, text, bigint, text, boolean, timestamptz, timestamptz, timestamptz) is
  E'Pure rule: the state a usage counter must have at as_of for the plan the user is on: rolls an ended period, and on a plan change carries unused quota over (upgrade of a carry_over metric) or keeps usage counted (downgrade). Used by writers and by the usage view alike.';

revoke all on function tollgate_private.next_counter_state(tollgate_private.usage_counters, uuid, text, text, bigint, text, boolean, timestamptz, timestamptz, timestamptz) from public, anon, authenticated, service_role;
