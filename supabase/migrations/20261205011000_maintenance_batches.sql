-- Maintenance in batches (REVIEW-2026-12 M-3): run_maintenance held every due counter's lock in one
-- transaction until it committed. Its parts become functions of their own, counters are rolled at
-- most batch_size at a time, and the procedure maintain commits after each part and each batch.
-- pg_cron now runs `call tollgate_private.maintain()`. Same text as the files in sql/.
-- run_maintenance takes a new argument, so the old one is dropped (nothing depends on it; a job
-- that still says `select tollgate_private.run_maintenance(now())` resolves to the new one).

drop function tollgate_private.run_maintenance(timestamptz);

-- ==== sql/0601_function_end_due_subscriptions.sql
create function tollgate_private.end_due_subscriptions(as_of timestamptz default now())
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_ended integer;
  v_lapsed integer;
  v_expired integer;
  v_caller_reason text := current_setting('tollgate.audit_reason', true);
begin
  perform set_config('tollgate.audit_reason', 'maintenance', true);

  -- Subscriptions set to cancel at period end whose period is over.
  with ended as (
    update tollgate.subscriptions s
    set status = 'canceled',
        ended_at = s.current_period_end,
        canceled_at = coalesce(s.canceled_at, s.current_period_end)
    where s.cancel_at_period_end
      and s.current_period_end <= end_due_subscriptions.as_of
      and s.status in ('trialing', 'active', 'past_due')
    returning 1
  )
  select count(*) into v_ended from ended;

  -- One-off payments (razorpay, internal) whose period or trial is over fall due; Stripe tells us itself.
  with lapsed as (
    update tollgate.subscriptions s
    set status = 'past_due'
    where s.provider <> 'stripe'
      and s.status in ('trialing', 'active')
      and (s.current_period_end <= end_due_subscriptions.as_of
        or (s.status = 'trialing' and s.trial_end <= end_due_subscriptions.as_of))
    returning 1
  )
  select count(*) into v_lapsed from lapsed;

  -- ... and end when the grace period is over without a new payment.
  with expired as (
    update tollgate.subscriptions s
    set status = 'canceled',
        ended_at = end_due_subscriptions.as_of
    from tollgate_private.settings st
    where s.provider <> 'stripe'
      and s.status = 'past_due'
      and (s.current_period_end at time zone 'UTC' + st.past_due_grace) at time zone 'UTC' <= end_due_subscriptions.as_of
    returning 1
  )
  select count(*) into v_expired from expired;

  perform set_config('tollgate.audit_reason', coalesce(v_caller_reason, ''), true);
  return jsonb_build_object(
    'subscriptions_ended', v_ended,
    'subscriptions_lapsed', v_lapsed,
    'subscriptions_expired', v_expired
  );
end;
$$;

comment on function tollgate_private.end_due_subscriptions(timestamptz) is
  E'The subscription part of maintenance at as_of: ends subscriptions whose cancel_at_period_end has passed, lapses one-off (razorpay, internal) subscriptions whose paid period or trial is over and ends them after the grace. The plan-change trigger moves their counters in the same transaction; the audit log says maintenance. Returns the three counts.';

revoke all on function tollgate_private.end_due_subscriptions(timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0602_function_release_abandoned_coupon_reservations.sql
create function tollgate_private.release_abandoned_coupon_reservations(as_of timestamptz default now())
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_released integer := 0;
  v_reservation record;
begin
  -- Coupon uses held by checkouts abandoned for two days go back (Stripe sessions expire in one).
  for v_reservation in
    select r.checkout_ref
    from tollgate_private.coupon_redemptions r
    where r.status = 'reserved' and r.updated_at <= release_abandoned_coupon_reservations.as_of - interval '2 days'
    for update skip locked
  loop
    perform tollgate_private.settle_coupon(v_reservation.checkout_ref, false);
    v_released := v_released + 1;
  end loop;
  return v_released;
end;
$$;

comment on function tollgate_private.release_abandoned_coupon_reservations(timestamptz) is
  E'The coupon part of maintenance at as_of: gives back the coupon uses still reserved by checkouts abandoned for two days (one checkout being settled right now is skipped). Returns how many it gave back.';

revoke all on function tollgate_private.release_abandoned_coupon_reservations(timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0603_function_roll_due_counters.sql
create function tollgate_private.roll_due_counters(
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
      v_entitlement.anchor, v_entitlement.valid_until, v_counter.plan_id);
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

-- ==== sql/0600_function_run_maintenance.sql
create function tollgate_private.run_maintenance(
  as_of timestamptz default now(),
  batch_size integer default 1000
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_subscriptions jsonb;
  v_counters jsonb;
  v_released integer;
begin
  v_subscriptions := tollgate_private.end_due_subscriptions(run_maintenance.as_of);
  -- One batch only: every counter it rolls stays locked until the caller commits.
  v_counters := tollgate_private.roll_due_counters(run_maintenance.as_of, run_maintenance.batch_size);
  v_released := tollgate_private.release_abandoned_coupon_reservations(run_maintenance.as_of);
  return jsonb_build_object(
    'as_of', run_maintenance.as_of,
    'subscriptions_ended', v_subscriptions -> 'subscriptions_ended',
    'subscriptions_lapsed', v_subscriptions -> 'subscriptions_lapsed',
    'subscriptions_expired', v_subscriptions -> 'subscriptions_expired',
    'counters_refreshed', v_counters -> 'counters_refreshed',
    'more_counters_due', v_counters -> 'more_counters_due',
    'coupon_reservations_released', v_released
  );
end;
$$;

comment on function tollgate_private.run_maintenance(timestamptz, integer) is
  E'All of maintenance at as_of in the caller''s transaction, with at most batch_size counters: ends subscriptions whose cancel_at_period_end has passed, lapses and expires one-off (razorpay, internal) subscriptions, rolls the first batch_size due counters, and gives back coupon uses held by abandoned checkouts. more_counters_due in the report says whether another call would find more. Safe to run at any time, any number of times. The schedule runs tollgate_private.maintain instead, which commits after each part and each batch.';

revoke all on function tollgate_private.run_maintenance(timestamptz, integer) from public, anon, authenticated, service_role;

-- ==== sql/0605_procedure_maintain.sql
-- A procedure, so that it can commit between batches. PostgreSQL forbids transaction control in a
-- procedure that carries a SET clause or is security definer, so this one alone has no pinned
-- search_path: it is a security invoker only its owner can call, names everything with its schema
-- and leaves all the work to the pinned functions it calls (as pg_partman's run_maintenance_proc).
create procedure tollgate_private.maintain(
  as_of timestamptz default null,
  batch_size integer default 1000
)
language plpgsql
security invoker
as $$
declare
  v_as_of pg_catalog.timestamptz := coalesce(maintain.as_of, pg_catalog.now());
  v_step pg_catalog.text := 'subscriptions';
  v_report pg_catalog.jsonb;
  v_after_user_id pg_catalog.uuid;
  v_after_metric pg_catalog.text;
  v_counters pg_catalog.int8 := 0;
  v_batches pg_catalog.int4 := 0;
  v_failures pg_catalog.int4 := 0;
  v_retries pg_catalog.int4 := 0;
begin
  if maintain.batch_size is null or maintain.batch_size < 1 then
    raise exception 'batch_size must be at least 1' using errcode = '22023';
  end if;

  -- Each part and each batch of counters is its own transaction: a counter stays locked only until
  -- its batch commits, and a failure loses one batch, not the run. A batch that lost a deadlock or
  -- waited past lock_timeout is rolled back (its subtransaction) and tried again from the same key.
  -- Nothing else is caught: any other error ends the run, keeping what committed before it.
  loop
    begin
      if v_step = 'subscriptions' then
        perform tollgate_private.end_due_subscriptions(v_as_of);
        v_step := 'counters';
      elsif v_step = 'counters' then
        v_report := tollgate_private.roll_due_counters(
          v_as_of, maintain.batch_size, v_after_user_id, v_after_metric);
        v_batches := v_batches + 1;
        v_counters := v_counters + (v_report ->> 'counters_refreshed')::pg_catalog.int8;
        v_after_user_id := (v_report ->> 'last_user_id')::pg_catalog.uuid;
        v_after_metric := v_report ->> 'last_metric';
        if not (v_report ->> 'more_counters_due')::pg_catalog.bool then
          v_step := 'coupons';
        end if;
      else
        perform tollgate_private.release_abandoned_coupon_reservations(v_as_of);
        v_step := 'done';
      end if;
      v_failures := 0;
    exception when deadlock_detected or lock_not_available then
      -- Five losses in a row end the run with the error; what committed before stays. The batch's
      -- locks are gone with its subtransaction: wait a little before taking them again, so that the
      -- transaction that won gets the counter it waited for instead of losing the same race again.
      v_failures := v_failures + 1;
      if v_failures >= 5 then
        raise;
      end if;
      v_retries := v_retries + 1;
      perform pg_catalog.pg_sleep(0.1::pg_catalog.float8 * v_failures);
    end;
    commit;
    exit when v_step = 'done';
  end loop;

  raise notice 'tollgate maintenance at %: % counters refreshed in % batches, % retried', v_as_of,
    v_counters, v_batches, v_retries;
end;
$$;

comment on procedure tollgate_private.maintain(timestamptz, integer) is
  E'Scheduled upkeep (pg_cron runs `call tollgate_private.maintain()` every 5 minutes): as run_maintenance at as_of (default: now() when it starts), but committing after the subscription part, after each batch of at most batch_size due counters (walked once, in (user_id, metric) order) and after the coupon part, so a consume never waits for more than one batch. A batch that loses a deadlock or a lock timeout is rolled back alone and tried again (after five failed attempts in a row the error ends the run; what committed stays). Counters in use are skipped and roll on their next consume. Call it outside a transaction block. Safe to run at any time, any number of times.';

revoke all on procedure tollgate_private.maintain(timestamptz, integer) from public, anon, authenticated, service_role;

-- ==== sql/0610_function_schedule_maintenance.sql (create or replace keeps its privileges)
create or replace function tollgate_private.schedule_maintenance()
returns text
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  if not exists (select from pg_catalog.pg_extension where extname = 'pg_cron') then
    return 'pg_cron is not installed: run call tollgate_private.maintain() from another scheduler';
  end if;
  -- Dynamic SQL: the cron schema only exists where pg_cron does. The job is this one statement:
  -- a procedure that commits must be called on its own, outside any transaction block.
  execute 'select cron.schedule($1, $2, $3)'
    using 'tollgate-maintenance', '*/5 * * * *', 'call tollgate_private.maintain()';
  return 'scheduled tollgate-maintenance every 5 minutes';
end;
$$;

comment on function tollgate_private.schedule_maintenance() is
  E'Schedules call tollgate_private.maintain() every 5 minutes with pg_cron (same job name, so running it again only updates the job). Run it after enabling pg_cron.';

revoke all on function tollgate_private.schedule_maintenance() from public, anon, authenticated, service_role;

-- Hand-written: where pg_cron runs the old job, point it at the procedure (same job name).
do $$
begin
  if exists (select from pg_catalog.pg_extension where extname = 'pg_cron') then
    perform tollgate_private.schedule_maintenance();
  end if;
end;
$$;
