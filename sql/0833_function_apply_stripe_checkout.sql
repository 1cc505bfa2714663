create function tollgate_private.apply_stripe_checkout(
  session jsonb,
  subscription jsonb,
  event_at timestamptz,
  event_id text
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  -- Decoded once (0805): every field below is read from here.
  v_session record := tollgate_private.stripe_checkout_fields(apply_stripe_checkout.session);
  v_session_id text := v_session.id;
  v_user_id uuid;
  v_result jsonb;
begin
  if v_session_id is null or v_session_id !~ '^cs_' then
    raise exception 'Not a Stripe Checkout Session object' using errcode = 'BADEV';
  end if;
  if v_session.mode is distinct from 'subscription' then
    return jsonb_build_object('outcome', 'ignored', 'error', 'not a subscription checkout');
  end if;

  -- The lookup every Stripe path shares (0806), client_reference_id as the hint: then
  -- metadata.user_id, the customer, the subscription's ref, the session's ref.
  v_user_id := tollgate_private.stripe_user_of(
    v_session.client_reference_user, v_session.metadata_user, v_session.customer, v_session.subscription, v_session_id);
  if v_user_id is null then
    return jsonb_build_object('outcome', 'unlinked', 'error', format('no Tollgate user for checkout %s', v_session_id));
  end if;

  -- A completed session can no longer be expired: a new checkout of the user leaves it alone.
  update tollgate_private.provider_refs r
  set details = r.details || jsonb_build_object('state', v_session.status)
  where r.provider = 'stripe' and r.object_type = 'checkout_session' and r.provider_id = v_session_id
    and v_session.status is not null
    and r.details ->> 'state' is distinct from v_session.status;

  if v_session.payment_status not in ('paid', 'no_payment_required') then
    -- Paid later (async methods): checkout.session.async_payment_succeeded applies it.
    return jsonb_build_object('outcome', 'ignored', 'error', 'not paid yet');
  end if;

  -- The user's lock before the first write, as apply_stripe_subscription takes it before linking
  -- the customer: a checkout and its subscription's event applied at once then queue on the lock,
  -- instead of each waiting on what the other wrote (a deadlock, one side retried minutes later).
  perform pg_advisory_xact_lock(hashtextextended('tollgate.user:' || v_user_id::text, 0));
  perform tollgate_private.link_customer(v_user_id, 'stripe', v_session.customer);
  if v_session.checkout_id is not null then
    perform tollgate_private.settle_coupon(v_session.checkout_id, true);
  end if;

  if apply_stripe_checkout.subscription is null then
    -- The subscription's own events will bring it.
    return jsonb_build_object('outcome', 'applied', 'user_id', v_user_id);
  end if;
  if v_session.subscription is distinct from apply_stripe_checkout.subscription ->> 'id' then
    raise exception 'The subscription given is not the checkout''s' using errcode = 'BADEV';
  end if;
  -- Fetched for this event: it wins a tie with another event of the same second.
  v_result := tollgate_private.apply_stripe_subscription(
    apply_stripe_checkout.subscription, apply_stripe_checkout.event_at, apply_stripe_checkout.event_id, v_user_id, true);
  -- A stale snapshot means a newer one is applied already: the checkout itself is done.
  if v_result ->> 'outcome' = 'stale' then
    return jsonb_build_object('outcome', 'applied', 'user_id', v_user_id);
  end if;
  return v_result;
end;
$$;

comment on function tollgate_private.apply_stripe_checkout(jsonb, jsonb, timestamptz, text) is
  E'Applies a completed, paid subscription-mode Checkout Session: links the customer to the user (found with stripe_user_of: client_reference_id, metadata.user_id, customer, the subscription''s or the session''s ref), redeems the coupon and applies the subscription snapshot fetched with it. Shared by the webhook and verify-payment.';

revoke all on function tollgate_private.apply_stripe_checkout(jsonb, jsonb, timestamptz, text) from public, anon, authenticated, service_role;
