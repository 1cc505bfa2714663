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
      and s.status = any (tollgate_private.plan_statuses())
    returning 1
  )
  select count(*) into v_ended from ended;

  -- One-off payments (razorpay, internal) whose period or trial is over fall due; Stripe tells us itself.
  with lapsed as (
    update tollgate.subscriptions s
    set status = 'past_due'
    where s.provider <> 'stripe'
      and s.status = any (tollgate_private.good_standing_statuses())
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
