create function tollgate_private.apply_stripe_subscription_for(
  user_id uuid,
  subscription jsonb,
  reason text,
  expected_price text default null,
  note text default null
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_sub record := tollgate_private.stripe_subscription_fields(apply_stripe_subscription_for.subscription);
  v_owner uuid;
  v_result jsonb;
  v_before jsonb;
begin
  -- Ownership is the user recorded for the subscription, not the wider lookup stripe_user_of
  -- makes for webhooks: only a subscription already applied for the caller may be changed.
  select r.user_id into v_owner
  from tollgate_private.provider_refs r
  where r.provider = 'stripe' and r.object_type = 'subscription' and r.provider_id = v_sub.id;
  if v_owner is distinct from apply_stripe_subscription_for.user_id then
    raise exception 'This subscription is not yours' using errcode = 'NOTYR';
  end if;
  -- Never record a plan Stripe does not bill: an update left pending answers the old price.
  if apply_stripe_subscription_for.expected_price is distinct from null
    and v_sub.price is distinct from apply_stripe_subscription_for.expected_price then
    raise exception 'Stripe did not move the subscription to the requested plan' using errcode = 'PROVR',
      detail = format('requested %s, billed %s', apply_stripe_subscription_for.expected_price,
        coalesce(v_sub.price, '(none)'));
  end if;
  perform set_config('tollgate.audit_reason',
    coalesce(apply_stripe_subscription_for.note, 'stripe:' || apply_stripe_subscription_for.reason), true);
  select to_jsonb(s) into v_before
  from tollgate.subscriptions s
  join tollgate_private.provider_refs r on r.local_id = s.id
  where r.provider = 'stripe' and r.object_type = 'subscription' and r.provider_id = v_sub.id;
  -- No event time: the answer to our own change moves no watermark, so the events that follow
  -- (and any newer one) still apply; stamped now(), a replayed older answer would have won.
  v_result := tollgate_private.apply_stripe_subscription(
    apply_stripe_subscription_for.subscription, null,
    'api:' || apply_stripe_subscription_for.reason, apply_stripe_subscription_for.user_id);
  if v_result ->> 'outcome' not in ('applied', 'stale') then
    raise exception 'The subscription could not be applied: %', coalesce(v_result ->> 'error', v_result ->> 'outcome')
      using errcode = 'BADEV';
  end if;
  if apply_stripe_subscription_for.note is not null and v_before is not null then
    perform tollgate_private.audit_subscription_request((v_before ->> 'id')::uuid, v_before,
      apply_stripe_subscription_for.note);
  end if;
  return tollgate_private.live_subscription_of(apply_stripe_subscription_for.user_id);
end;
$$;

comment on function tollgate_private.apply_stripe_subscription_for(uuid, jsonb, text, text, text) is
  E'Applies the subscription Stripe returned from a change made for the user (change-plan, cancel, resume) the same way its webhook will; refuses (NOTYR) a subscription that is not theirs, and (PROVR) one whose first item is not on expected_price, when given (change-plan). note, when given, is the reason of the request (a user''s cancellation reason, an admin''s): the audit log records it. Returns their live subscription.';

revoke all on function tollgate_private.apply_stripe_subscription_for(uuid, jsonb, text, text, text) from public, anon, authenticated, service_role;
