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
      elsif v_step = 'coupons' then
        perform tollgate_private.release_abandoned_coupon_reservations(v_as_of);
        v_step := 'reminders';
      elsif v_step = 'reminders' then
        perform tollgate_private.send_reminders(v_as_of);
        v_step := 'metrics';
      else
        perform tollgate_private.snapshot_metrics(v_as_of);
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
  E'Scheduled upkeep (pg_cron runs `call tollgate_private.maintain()` every 5 minutes): as run_maintenance at as_of (default: now() when it starts), but committing after the subscription part, after each batch of at most batch_size due counters (walked once, in (user_id, metric) order), after the coupon part and after the reminders (send_reminders), so a consume never waits for more than one batch. A batch that loses a deadlock or a lock timeout is rolled back alone and tried again (after five failed attempts in a row the error ends the run; what committed stays). Counters in use are skipped and roll on their next consume. Call it outside a transaction block. Safe to run at any time, any number of times.';

revoke all on procedure tollgate_private.maintain(timestamptz, integer) from public, anon, authenticated, service_role;
