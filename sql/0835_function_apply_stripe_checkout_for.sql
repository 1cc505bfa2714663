create function tollgate_private.apply_stripe_checkout_for(user_id uuid, session jsonb, subscription jsonb)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_session record := tollgate_private.stripe_checkout_fields(apply_stripe_checkout_for.session);
  v_session_id text := v_session.id;
  v_result jsonb;
begin
  -- Ownership is what the session itself names (Tollgate's checkout sets both), not the wider
  -- lookup stripe_user_of makes for webhooks: the caller must be the buyer.
  if coalesce(v_session.client_reference_user, v_session.metadata_user) is distinct from apply_stripe_checkout_for.user_id then
    raise exception 'This checkout is not yours' using errcode = 'NOTYR';
  end if;
  if v_session.mode is distinct from 'subscription'
    or v_session.payment_status not in ('paid', 'no_payment_required') then
    raise exception 'The checkout is not paid yet' using errcode = 'NOTPD',
      detail = format('status %s, payment_status %s', v_session.status, v_session.payment_status);
  end if;
  perform set_config('tollgate.audit_reason', 'stripe:verify:' || v_session_id, true);
  -- The snapshot was fetched just now, but a retried request may replay an older answer: no event
  -- time, so it moves no watermark and the events that follow still apply.
  v_result := tollgate_private.apply_stripe_checkout(
    apply_stripe_checkout_for.session, apply_stripe_checkout_for.subscription,
    null, 'verify:' || v_session_id);
  if v_result ->> 'outcome' not in ('applied', 'stale') then
    raise exception 'The checkout could not be applied: %', coalesce(v_result ->> 'error', v_result ->> 'outcome')
      using errcode = 'NOTPD';
  end if;
  return tollgate_private.live_subscription_of(apply_stripe_checkout_for.user_id);
end;
$$;

comment on function tollgate_private.apply_stripe_checkout_for(uuid, jsonb, jsonb) is
  E'verify-payment for Stripe: checks the session is the caller''s (NOTYR) and paid (NOTPD), then applies it exactly as the webhook would; whichever comes second changes nothing. Returns the caller''s live subscription.';

revoke all on function tollgate_private.apply_stripe_checkout_for(uuid, jsonb, jsonb) from public, anon, authenticated, service_role;
