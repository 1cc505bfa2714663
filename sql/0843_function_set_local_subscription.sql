create function tollgate_private.set_local_subscription(
  user_id uuid,
  action text,
  as_of timestamptz,
  note text default null
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_live tollgate.subscriptions;
begin
  select s.* into v_live
  from tollgate.subscriptions s
  where s.user_id = set_local_subscription.user_id and s.status = any (tollgate_private.live_statuses())
  for update;
  if v_live.id is null then
    if set_local_subscription.action = 'end' then
      return null;
    end if;
    raise exception 'You have no live subscription' using errcode = 'NOSUB';
  end if;
  if v_live.provider = 'stripe' then
    raise exception 'Stripe subscriptions change through Stripe' using errcode = 'TGCFG';
  end if;
  perform set_config('tollgate.audit_reason',
    coalesce(set_local_subscription.note, 'user:' || set_local_subscription.action), true);
  case set_local_subscription.action
    when 'cancel' then
      update tollgate.subscriptions s
      set cancel_at_period_end = true, canceled_at = set_local_subscription.as_of
      where s.id = v_live.id;
    when 'resume' then
      update tollgate.subscriptions s
      set cancel_at_period_end = false, canceled_at = null
      where s.id = v_live.id;
    when 'end' then
      update tollgate.subscriptions s
      set status = 'canceled', canceled_at = coalesce(s.canceled_at, set_local_subscription.as_of),
          ended_at = set_local_subscription.as_of
      where s.id = v_live.id;
    else
      raise exception 'Unknown action %', set_local_subscription.action using errcode = '22023';
  end case;
  if set_local_subscription.note is not null then
    perform tollgate_private.audit_subscription_request(v_live.id, to_jsonb(v_live), set_local_subscription.note);
  end if;
  return (select to_jsonb(s) from tollgate.subscriptions s where s.id = v_live.id);
end;
$$;

comment on function tollgate_private.set_local_subscription(uuid, text, timestamptz, text) is
  E'Cancel at period end, resume, or end now the user''s live Razorpay or internal subscription (Stripe ones change through Stripe). NOSUB when there is none to cancel or resume. note, when given, is the reason of the request, recorded in the audit log. Returns the subscription.';

revoke all on function tollgate_private.set_local_subscription(uuid, text, timestamptz, text) from public, anon, authenticated, service_role;
