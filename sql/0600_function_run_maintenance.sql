create function tollgate_private.run_maintenance(as_of timestamptz default now())
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
  v_counters integer := 0;
  v_released integer := 0;
  v_reservation record;
  v_counter record;
  v_entitlement record;
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
      and s.current_period_end <= run_maintenance.as_of
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
      and (s.current_period_end <= run_maintenance.as_of
        or (s.status = 'trialing' and s.trial_end <= run_maintenance.as_of))
    returning 1
  )
  select count(*) into v_lapsed from lapsed;

  -- ... and end when the grace period is over without a new payment.
  with expired as (
    update tollgate.subscriptions s
    set status = 'canceled',
        ended_at = run_maintenance.as_of
    from tollgate_private.settings st
    where s.provider <> 'stripe'
      and s.status = 'past_due'
      and (s.current_period_end at time zone 'UTC' + st.past_due_grace) at time zone 'UTC' <= run_maintenance.as_of
    returning 1
  )
  select count(*) into v_expired from expired;

  -- Scheduled reset: roll ended periods and re-check plans whose entitlement ran out. A counter
  -- in use right now is skipped: its own next consume rolls it lazily.
  for v_counter in
    select c.user_id, c.metric, c.plan_id
    from tollgate_private.usage_counters c
    where c.period_end <= run_maintenance.as_of or c.valid_until <= run_maintenance.as_of
    order by c.user_id, c.metric
    for update skip locked
  loop
    select e.* into v_entitlement from tollgate_private.entitlement(v_counter.user_id, run_maintenance.as_of) e;
    perform tollgate_private.refresh_usage_counter(
      v_counter.user_id, v_counter.metric, run_maintenance.as_of, v_entitlement.plan_id,
      v_entitlement.anchor, v_entitlement.valid_until, v_counter.plan_id, v_entitlement.paid_until);
    v_counters := v_counters + 1;
  end loop;

  -- Coupon uses held by checkouts abandoned for two days go back (Stripe sessions expire in one).
  for v_reservation in
    select r.checkout_ref
    from tollgate_private.coupon_redemptions r
    where r.status = 'reserved' and r.updated_at <= run_maintenance.as_of - interval '2 days'
    for update skip locked
  loop
    perform tollgate_private.settle_coupon(v_reservation.checkout_ref, false);
    v_released := v_released + 1;
  end loop;

  perform set_config('tollgate.audit_reason', coalesce(v_caller_reason, ''), true);
  return jsonb_build_object(
    'as_of', run_maintenance.as_of,
    'subscriptions_ended', v_ended,
    'subscriptions_lapsed', v_lapsed,
    'subscriptions_expired', v_expired,
    'counters_refreshed', v_counters,
    'coupon_reservations_released', v_released
  );
end;
$$;

comment on function tollgate_private.run_maintenance(timestamptz) is
  E'Scheduled upkeep at as_of: ends subscriptions whose cancel_at_period_end has passed, lapses and expires one-off (razorpay, internal) subscriptions, rolls ended usage periods, and gives back coupon uses held by abandoned checkouts. Safe to run at any time, any number of times. pg_cron runs it every 5 minutes.';

revoke all on function tollgate_private.run_maintenance(timestamptz) from public, anon, authenticated, service_role;
