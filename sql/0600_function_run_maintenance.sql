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
  v_reminders jsonb;
  v_metric_days integer;
begin
  v_subscriptions := tollgate_private.end_due_subscriptions(run_maintenance.as_of);
  -- One batch only: every counter it rolls stays locked until the caller commits.
  v_counters := tollgate_private.roll_due_counters(run_maintenance.as_of, run_maintenance.batch_size);
  v_released := tollgate_private.release_abandoned_coupon_reservations(run_maintenance.as_of);
  v_reminders := tollgate_private.send_reminders(run_maintenance.as_of);
  v_metric_days := tollgate_private.snapshot_metrics(run_maintenance.as_of);
  return jsonb_build_object(
    'as_of', run_maintenance.as_of,
    'subscriptions_ended', v_subscriptions -> 'subscriptions_ended',
    'subscriptions_lapsed', v_subscriptions -> 'subscriptions_lapsed',
    'subscriptions_expired', v_subscriptions -> 'subscriptions_expired',
    'counters_refreshed', v_counters -> 'counters_refreshed',
    'more_counters_due', v_counters -> 'more_counters_due',
    'coupon_reservations_released', v_released,
    'reminders', v_reminders,
    'metric_days', v_metric_days
  );
end;
$$;

comment on function tollgate_private.run_maintenance(timestamptz, integer) is
  E'All of maintenance at as_of in the caller''s transaction, with at most batch_size counters: ends subscriptions whose cancel_at_period_end has passed, lapses and expires one-off (razorpay, internal) subscriptions, rolls the first batch_size due counters, gives back coupon uses held by abandoned checkouts, sends trial and renewal reminders (send_reminders) and writes the daily revenue figures of the days not written yet (snapshot_metrics). more_counters_due in the report says whether another call would find more. Safe to run at any time, any number of times. The schedule runs tollgate_private.maintain instead, which commits after each part and each batch.';

revoke all on function tollgate_private.run_maintenance(timestamptz, integer) from public, anon, authenticated, service_role;
