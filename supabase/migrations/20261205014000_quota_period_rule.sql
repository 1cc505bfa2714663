-- One rule for quota periods (issue 11: H-2, S-2, S-3 a, S-5, S-6). Inside the period being counted a
-- plan change never lowers used and the quota is the plan base plus the carry-over brought into the
-- period (path independent); only a change that starts a new paid period starts from zero (with
-- carry-over on an upgrade). A period never starts at or after paid_until (what is paid for): grace
-- keeps what the last paid period left and opens no new quota; a past_due Stripe subscription is paid
-- until its current_period_start (the failure), so its grace counts from there.
-- Same text as the files in sql/ (create or replace for the functions kept).

-- usage_counters.carried: the carry-over brought into the current period, kept by plan changes
-- inside it (the quota was base + carried implicitly; a change of plan re-derived it and forgot).
alter table tollgate_private.usage_counters add column carried bigint not null default 0;
-- Hand-written data move: the carry-over already in running periods.
update tollgate_private.usage_counters
set carried = quota - base_quota
where quota <> -1 and base_quota <> -1 and quota <> base_quota;
comment on column tollgate_private.usage_counters.quota is E'Amount allowed in the current period: base_quota plus carried (never below 0), or only what was used in a period nothing paid for; -1 = unlimited.';
comment on column tollgate_private.usage_counters.carried is
  E'Carry-over brought into the current period when an upgrade started it (what the old period left; negative = a debt); 0 otherwise. Plan changes inside the period keep it.';

-- New signatures (paid_until): the old ones go first; plpgsql callers are replaced below.
drop function tollgate_private.next_counter_state(tollgate_private.usage_counters, uuid, text, text, bigint, text, boolean, timestamptz, timestamptz, timestamptz);
drop function tollgate_private.refresh_usage_counter(uuid, text, timestamptz, text, timestamptz, timestamptz, text);
drop function tollgate_private.entitlement(uuid, timestamptz);

comment on column tollgate.plan_limits.carry_over is
  E'When an upgrade to this plan starts a new paid period (a new subscription, a paid order, a reset billing cycle), the unused quota of the old period is added to it (a debt when negative). A prorated change inside a period carries nothing and never resets usage.';

-- ==== sql/0310_function_entitlement.sql
create function tollgate_private.entitlement(
  user_id uuid,
  as_of timestamptz,
  out plan_id text,
  out subscription_id uuid,
  out anchor timestamptz,
  out valid_until timestamptz,
  out paid_until timestamptz
)
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_sub tollgate.subscriptions;
  v_grace interval;
begin
  plan_id := 'free';

  select s.* into v_sub
  from tollgate.subscriptions s
  where s.user_id = entitlement.user_id
    and s.status in ('trialing', 'active', 'past_due', 'unpaid', 'paused');

  if v_sub.id is null or v_sub.status not in ('trialing', 'active', 'past_due') then
    return;
  end if;

  select st.past_due_grace into v_grace from tollgate_private.settings st;
  v_grace := coalesce(v_grace, interval '3 days');

  -- What is paid for: Stripe renews by itself and tells us (no end while it is not past_due); when
  -- a Stripe renewal fails, Stripe has already moved the period, so the unpaid period starts at
  -- current_period_start: the failure. One-off payments (razorpay, internal) pay up to
  -- current_period_end (a trial of theirs up to trial_end).
  if v_sub.provider = 'stripe' then
    if v_sub.status = 'past_due' then
      paid_until := v_sub.current_period_start;
    end if;
  elsif v_sub.status = 'trialing' then
    paid_until := least(v_sub.trial_end, v_sub.current_period_end);
  else
    paid_until := v_sub.current_period_end;
  end if;

  -- The plan is kept for the grace after what was paid for (counted from the failure), never past
  -- the end of a period set to cancel, nor past a one-off trial.
  if paid_until is not null then
    valid_until := (paid_until at time zone 'UTC' + v_grace) at time zone 'UTC';
  end if;
  if v_sub.cancel_at_period_end then
    valid_until := least(valid_until, v_sub.current_period_end);
  end if;
  if v_sub.status = 'trialing' and v_sub.provider <> 'stripe' then
    valid_until := least(valid_until, v_sub.trial_end);
  end if;

  if valid_until <= entitlement.as_of then
    valid_until := null;
    paid_until := null;
    return;
  end if;

  plan_id := v_sub.plan_id;
  subscription_id := v_sub.id;
  anchor := coalesce(v_sub.billing_cycle_anchor, v_sub.current_period_start, v_sub.created_at);
end;
$$;

comment on function tollgate_private.entitlement(uuid, timestamptz) is
  E'The plan a user is entitled to at as_of: their live subscription''s plan, else free; with the month anchor for usage periods, paid_until (the end of what is paid for: current_period_end of a one-off razorpay or internal payment, current_period_start of a past_due Stripe subscription, whose failed renewal already moved the period; null while Stripe renews by itself) and valid_until (paid_until plus the grace, or the end of a period set to cancel): the moment this must be checked again.';

revoke all on function tollgate_private.entitlement(uuid, timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0320_function_next_counter_state.sql
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
    if next_counter_state.paid_until is not null and v.period <> 'never'
      and v.period_start >= next_counter_state.paid_until and v.quota <> 0 then
      -- Not paid for (see below).
      v.quota := 0;
    end if;
    v.created_at := now();
    v.updated_at := now();
    return v;
  end if;

  v := cur;

  -- ROLL: an ended period is closed under the rules it was counted with; the next one starts
  -- from zero and without carried-over quota. Never earlier than the old end (anchor changes).
  -- Unless nothing pays for it: a quota period never starts at or after paid_until, so the grace
  -- after an unpaid renewal keeps what was left of the last paid period until valid_until.
  if v.period_end is not null and v.period_end <= next_counter_state.as_of then
    v_window := tollgate_private.period_window(v.period, v.anchor, next_counter_state.as_of);
    if next_counter_state.paid_until is not null
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
    if next_counter_state.paid_until is not null and v_window.period_start >= next_counter_state.paid_until
      and v.period_start < next_counter_state.paid_until and v.plan_id <> 'free' then
      -- The plan's window at as_of is not paid for: stay in the last paid period (ROLL runs it on).
      v_stay := true;
    elsif next_counter_state.plan_id <> 'free' and v_window.period_start > v.period_start then
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
    when next_counter_state.plan_id = 'free' then next_counter_state.base_quota
    else greatest(next_counter_state.base_quota + v.carried, 0)
  end;
  -- A period that began at or after paid_until was not paid for: it gives nothing new.
  if next_counter_state.paid_until is not null and v.period <> 'never'
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
  E'Pure rule: the state a usage counter must have at as_of for the plan the user is entitled to. An ended period rolls to a fresh one, unless it would start at or after paid_until (nothing paid for it): then the last paid period runs on until valid_until (grace keeps what was left, it opens no new quota). Inside the period being counted, a plan change never lowers used and the quota is the new plan''s base plus the carry-over brought into the period (kept, but not granted, while on free), so any sequence of changes ends where the direct change would. A change that starts a new paid period (a paid plan whose window starts after the counted one) starts used at 0; when it is an upgrade of a carry_over metric, the new period carries what the old one left (old quota - old used, a debt when negative). A period starting at or after paid_until gets no quota beyond what it used. Gauges (never) keep their count across every change. Used by writers and by the usage view alike.';

revoke all on function tollgate_private.next_counter_state(tollgate_private.usage_counters, uuid, text, text, bigint, text, boolean, timestamptz, timestamptz, timestamptz, timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0330_function_refresh_usage_counter.sql
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
  end if;
  return v_next;
end;
$$;

comment on function tollgate_private.refresh_usage_counter(uuid, text, timestamptz, text, timestamptz, timestamptz, text, timestamptz) is
  E'Locks one usage counter (creating it if missing) and brings it to the state next_counter_state gives for the plan passed in. Callers pass the entitlement (plan, anchor, valid_until, paid_until); baseline_plan_id is the plan a missing counter would have been on.';

revoke all on function tollgate_private.refresh_usage_counter(uuid, text, timestamptz, text, timestamptz, timestamptz, text, timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0340_function_sync_usage_counters.sql
create or replace function tollgate_private.sync_usage_counters(user_id uuid, as_of timestamptz)
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
      v_entitlement.anchor, v_entitlement.valid_until, coalesce(v_baseline, 'free'), v_entitlement.paid_until);
  end loop;
end;
$$;

comment on function tollgate_private.sync_usage_counters(uuid, timestamptz) is
  E'Makes every usage counter of a user follow the plan they are entitled to at as_of (called when their subscription changes), creating counters for the plan''s metrics.';

revoke all on function tollgate_private.sync_usage_counters(uuid, timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0360_function_apply_usage.sql
create or replace function tollgate_private.apply_usage(user_id uuid, metric text, delta bigint, as_of timestamptz)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_row tollgate_private.usage_counters;
  v_entitlement record;
  v_baseline text;
  v_key bigint;
  v_my_turn boolean;
begin
  if apply_usage.delta > 0 then
    -- Signed-in callers (PostgREST's role authenticated) of one counter queue on an advisory lock,
    -- woken one at a time, rather than on the counter's row, whose wait-and-recheck costs several
    -- times the CPU under contention (a user whose workers all consume at once). A queue, not the
    -- guard: the update below is atomic alone. Such a request writes only its caller's counters;
    -- triggers, the service role and the owner (batches over many users) queue on the rows, so one
    -- transaction never fills the shared lock table (about 64 locks per connection).
    if pg_catalog.current_setting('role') = 'authenticated' and pg_catalog.pg_trigger_depth() = 0 then
      v_key := pg_catalog.hashtextextended(
        'tollgate.counter:' || apply_usage.user_id::text || ':' || apply_usage.metric, 0);
      v_my_turn := pg_catalog.pg_try_advisory_xact_lock(v_key);
    else
      v_my_turn := true;
    end if;
    loop
      if v_my_turn then
        -- FAST PATH: one conditional update. The row lock and the re-check of the WHERE clause on
        -- the newest row version make it atomic: no concurrency can take used past quota.
        update tollgate_private.usage_counters c
        set used = c.used + apply_usage.delta,
            updated_at = now()
        where c.user_id = apply_usage.user_id
          and c.metric = apply_usage.metric
          and (c.period_end is null or c.period_end > apply_usage.as_of)
          and (c.valid_until is null or c.valid_until > apply_usage.as_of)
          -- Subtractions, never used + delta: no amount can overflow bigint (22003); an unlimited
          -- counter still stops at bigint's largest value.
          and (c.quota = -1 and apply_usage.delta <= 9223372036854775807 - c.used
            or c.quota <> -1 and apply_usage.delta <= c.quota - c.used)
        returning c.* into v_row;
        if found then
          return tollgate_private.usage_answer(true, apply_usage.metric, v_row);
        end if;
      end if;

      -- REFUSAL without a lock: a current counter without room answers at once, so a user
      -- hammering an exhausted quota neither queues nor writes.
      select c.* into v_row
      from tollgate_private.usage_counters c
      where c.user_id = apply_usage.user_id and c.metric = apply_usage.metric;
      if v_row.user_id is not null
        and (v_row.period_end is null or v_row.period_end > apply_usage.as_of)
        and (v_row.valid_until is null or v_row.valid_until > apply_usage.as_of)
        and apply_usage.delta
          > (case when v_row.quota = -1 then 9223372036854775807 else v_row.quota end) - v_row.used then
        return tollgate_private.usage_answer(false, apply_usage.metric, v_row);
      end if;

      -- Neither counted nor refused after our turn: the slow path below decides.
      exit when v_my_turn;
      -- The lock was busy. Wait for it, unless this transaction already holds the row (written
      -- before by a release, a plan change...): the lock's holder may be waiting for that row, and
      -- we would deadlock.
      perform from tollgate_private.usage_counters c
      where c.user_id = apply_usage.user_id and c.metric = apply_usage.metric
      for no key update skip locked;
      if not found then
        perform pg_catalog.pg_advisory_xact_lock(v_key);
      end if;
      v_my_turn := true;
    end loop;
  else
    -- Releases only apply to gauges (never-resetting metrics), and never below zero.
    update tollgate_private.usage_counters c
    set used = greatest(c.used + apply_usage.delta, 0),
        updated_at = now()
    where c.user_id = apply_usage.user_id
      and c.metric = apply_usage.metric
      and c.period = 'never'
      and (c.valid_until is null or c.valid_until > apply_usage.as_of)
    returning c.* into v_row;
    if found then
      return tollgate_private.usage_answer(true, apply_usage.metric, v_row);
    end if;
  end if;

  -- SLOW PATH: the counter is missing, its period has ended, or its plan must be checked again.
  if not exists (select from auth.users u where u.id = apply_usage.user_id) then
    perform tollgate_private.raise_error('NOUSR', format('Unknown user %s', apply_usage.user_id),
      hint => 'The user must exist in auth.users.');
  end if;
  if not exists (select from tollgate.plan_limits l where l.metric = apply_usage.metric)
    and not exists (
      select from tollgate_private.usage_counters c
      where c.user_id = apply_usage.user_id and c.metric = apply_usage.metric
    ) then
    perform tollgate_private.raise_error('NOMET', format('Unknown metric %s', apply_usage.metric),
      hint => 'Metrics are the ones named in tollgate.plan_limits.');
  end if;

  select e.* into v_entitlement from tollgate_private.entitlement(apply_usage.user_id, apply_usage.as_of) e;
  select c.plan_id into v_baseline
  from tollgate_private.usage_counters c
  where c.user_id = apply_usage.user_id
  limit 1;

  v_row := tollgate_private.refresh_usage_counter(
    apply_usage.user_id, apply_usage.metric, apply_usage.as_of, v_entitlement.plan_id,
    v_entitlement.anchor, v_entitlement.valid_until, coalesce(v_baseline, v_entitlement.plan_id),
    v_entitlement.paid_until);

  if v_row.user_id is null then
    -- The metric exists, but not on this user's plan: quota 0.
    return tollgate_private.usage_answer(apply_usage.delta < 0, apply_usage.metric, null);
  end if;

  if apply_usage.delta < 0 then
    if v_row.period <> 'never' then
      perform tollgate_private.raise_error('GAUGE',
        format('Only never-resetting metrics can be released; %s resets every %s',
          apply_usage.metric, v_row.period),
        hint => 'Usage of a resetting metric is not given back.');
    end if;
    update tollgate_private.usage_counters c
    set used = greatest(c.used + apply_usage.delta, 0),
        updated_at = now()
    where c.user_id = apply_usage.user_id and c.metric = apply_usage.metric
    returning c.* into v_row;
    return tollgate_private.usage_answer(true, apply_usage.metric, v_row);
  end if;

  -- The row is locked by refresh_usage_counter: decide on the fresh state.
  if apply_usage.delta
      > (case when v_row.quota = -1 then 9223372036854775807 else v_row.quota end) - v_row.used then
    return tollgate_private.usage_answer(false, apply_usage.metric, v_row);
  end if;
  update tollgate_private.usage_counters c
  set used = c.used + apply_usage.delta,
      updated_at = now()
  where c.user_id = apply_usage.user_id and c.metric = apply_usage.metric
  returning c.* into v_row;
  return tollgate_private.usage_answer(true, apply_usage.metric, v_row);
end;
$$;

comment on function tollgate_private.apply_usage(uuid, text, bigint, timestamptz) is
  E'Counts delta (positive: consume, refused past the quota; negative: release of a gauge, floored at zero) on a user''s counter at as_of, rolling the period or following a plan change first when due. Concurrent signed-in consumers of one counter queue on a transaction advisory lock keyed ''tollgate.counter:<user>:<metric>''. Writes no ledger row: record_usage does.';

revoke all on function tollgate_private.apply_usage(uuid, text, bigint, timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0410_function_usage_rows.sql
create or replace function tollgate_private.usage_rows(for_user_id uuid, as_of timestamptz)
returns table (
  user_id uuid,
  metric text,
  period text,
  period_start timestamptz,
  period_end timestamptz,
  used bigint,
  quota bigint,
  remaining bigint
)
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  -- Computed with the same rule the writers use, so a read shows a lazy reset or a plan change
  -- before any write has happened. plpgsql, not sql: a SQL function with a pinned search_path is
  -- never inlined, so it was planned on every read; plpgsql keeps the plan for the session.
  return query
  select usage_rows.for_user_id, l.metric, n.period, n.period_start, n.period_end, n.used, n.quota,
    case when n.quota = -1 then null else greatest(n.quota - n.used, 0) end
  from tollgate_private.entitlement(usage_rows.for_user_id, usage_rows.as_of) e
  join tollgate.plan_limits l on l.plan_id = e.plan_id
  left join tollgate_private.usage_counters c
    on c.user_id = usage_rows.for_user_id and c.metric = l.metric
  cross join lateral tollgate_private.next_counter_state(
    c, usage_rows.for_user_id, l.metric, e.plan_id, l.quota, l.period, l.carry_over, e.anchor,
    e.valid_until, usage_rows.as_of, e.paid_until) n
  order by l.metric;
end;
$$;

comment on function tollgate_private.usage_rows(uuid, timestamptz) is
  E'One row per metric of the plan a user is on at as_of: period bounds, used, quota (-1 = unlimited) and remaining (null when unlimited).';

revoke all on function tollgate_private.usage_rows(uuid, timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0603_function_roll_due_counters.sql
create or replace function tollgate_private.roll_due_counters(
  as_of timestamptz default now(),
  batch_size integer default 1000,
  after_user_id uuid default null,
  after_metric text default null
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_due refcursor;
  v_counter record;
  v_entitlement record;
  v_counters integer := 0;
  v_last_user_id uuid := roll_due_counters.after_user_id;
  v_last_metric text := roll_due_counters.after_metric;
  v_more boolean := false;
begin
  if roll_due_counters.batch_size is null or roll_due_counters.batch_size < 1 then
    raise exception 'batch_size must be at least 1' using errcode = '22023';
  end if;

  -- The batch: the next due counters in (user_id, metric) order, so one user's counters are locked
  -- in metric order as sync_usage_counters locks them. Each stays locked only until the caller's transaction ends. A counter in
  -- use right now is skipped: its own next consume rolls it lazily. Two queries so that the one
  -- with a key starts its index scan there (keyset paging, no rescan of the batches before).
  if roll_due_counters.after_user_id is null then
    open v_due for
      select c.user_id, c.metric, c.plan_id
      from tollgate_private.usage_counters c
      where c.period_end <= roll_due_counters.as_of or c.valid_until <= roll_due_counters.as_of
      order by c.user_id, c.metric
      limit roll_due_counters.batch_size
      for update skip locked;
  else
    open v_due for
      select c.user_id, c.metric, c.plan_id
      from tollgate_private.usage_counters c
      where (c.user_id, c.metric) > (roll_due_counters.after_user_id, coalesce(roll_due_counters.after_metric, ''))
        and (c.period_end <= roll_due_counters.as_of or c.valid_until <= roll_due_counters.as_of)
      order by c.user_id, c.metric
      limit roll_due_counters.batch_size
      for update skip locked;
  end if;

  -- Roll ended periods and re-check plans whose entitlement ran out, as a lazy consume would.
  loop
    fetch v_due into v_counter;
    exit when not found;
    select e.* into v_entitlement from tollgate_private.entitlement(v_counter.user_id, roll_due_counters.as_of) e;
    perform tollgate_private.refresh_usage_counter(
      v_counter.user_id, v_counter.metric, roll_due_counters.as_of, v_entitlement.plan_id,
      v_entitlement.anchor, v_entitlement.valid_until, v_counter.plan_id, v_entitlement.paid_until);
    v_counters := v_counters + 1;
    v_last_user_id := v_counter.user_id;
    v_last_metric := v_counter.metric;
  end loop;
  close v_due;

  -- Locked counters do not count towards the limit, so a short batch means none are left after it.
  if v_counters = roll_due_counters.batch_size then
    v_more := exists (
      select from tollgate_private.usage_counters c
      where (c.user_id, c.metric) > (v_last_user_id, v_last_metric)
        and (c.period_end <= roll_due_counters.as_of or c.valid_until <= roll_due_counters.as_of));
  end if;

  return jsonb_build_object(
    'counters_refreshed', v_counters,
    'more_counters_due', v_more,
    'last_user_id', v_last_user_id,
    'last_metric', v_last_metric
  );
end;
$$;

comment on function tollgate_private.roll_due_counters(timestamptz, integer, uuid, text) is
  E'One batch of the counter part of maintenance at as_of: locks at most batch_size due counters (period ended or plan to re-check) after the key (after_user_id, after_metric), in (user_id, metric) order, skipping counters in use, and rolls each as the next consume would. Returns counters_refreshed, more_counters_due and the key to continue after (last_user_id, last_metric). The locks last until the caller''s transaction ends, so callers commit after each batch (tollgate_private.maintain does).';

revoke all on function tollgate_private.roll_due_counters(timestamptz, integer, uuid, text) from public, anon, authenticated, service_role;

-- ==== sql/0510 (the update trigger's WHEN: a past_due Stripe subscription is paid until its current_period_start)
drop trigger _500_sync_usage_on_update on tollgate.subscriptions;
-- An update runs the sync only when it can change tollgate_private.entitlement()'s answer for the
-- user at some moment (plan, anchor or valid_until); the clause reads exactly the columns
-- entitlement() reads, in the cases it reads them (keep the two in step). A renewal that only moves
-- the period of a live Stripe subscription with a billing_cycle_anchor changes none of them: its
-- counters keep their plan, anchor and valid_until, and roll on their own period_end (lazily in
-- apply_usage and usage_rows, or in run_maintenance), as they would without the event.
create trigger _500_sync_usage_on_update
  after update on tollgate.subscriptions
  for each row
  when (
    (old.user_id, old.plan_id, old.status, old.provider, old.billing_cycle_anchor,
     old.cancel_at_period_end, old.trial_end, old.created_at)
      is distinct from
        (new.user_id, new.plan_id, new.status, new.provider, new.billing_cycle_anchor,
         new.cancel_at_period_end, new.trial_end, new.created_at)
    -- From here on both rows agree on the columns above. Only a subscription that can be the
    -- user's plan reads its periods: the month anchor falls back to current_period_start, a
    -- past_due Stripe subscription is paid until its current_period_start, and valid_until follows
    -- current_period_end for past_due, one-off (razorpay, internal) and cancel-at-period-end ones.
    or (new.status in ('trialing', 'active', 'past_due')
      and (((new.billing_cycle_anchor is null or (new.status = 'past_due' and new.provider = 'stripe'))
          and old.current_period_start is distinct from new.current_period_start)
        or ((new.status = 'past_due' or new.provider <> 'stripe' or new.cancel_at_period_end)
          and old.current_period_end is distinct from new.current_period_end)))
  )
  execute function tollgate_private.tg_subscriptions__sync_usage();

-- Hand-written data move: the seeded plans promised carry-over on every upgrade.
update tollgate.plans
set features = array_replace(features, '100,000 API calls a month, unused calls carry over on upgrade',
  '100,000 API calls a month; an upgrade that starts a new billing period carries unused calls over')
where id = 'pro';
update tollgate.plans
set features = array_replace(features, '1,000,000 API calls a month, unused calls carry over on upgrade',
  '1,000,000 API calls a month; an upgrade that starts a new billing period carries unused calls over')
where id = 'enterprise';

