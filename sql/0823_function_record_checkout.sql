create function tollgate_private.record_checkout(
  user_id uuid,
  provider text,
  provider_checkout_id text,
  checkout_id uuid,
  plan_id text,
  amount bigint,
  currency text,
  extra jsonb default '{}'::jsonb
)
returns void
language sql
volatile
security invoker
set search_path = ''
as $$
  insert into tollgate_private.provider_refs (provider, object_type, provider_id, user_id, details)
  values (
    record_checkout.provider,
    case record_checkout.provider when 'stripe' then 'checkout_session' else 'order' end,
    record_checkout.provider_checkout_id,
    record_checkout.user_id,
    jsonb_build_object(
      'checkout_id', record_checkout.checkout_id,
      'plan_id', record_checkout.plan_id,
      'amount', record_checkout.amount,
      'currency', record_checkout.currency))
  on conflict do nothing;

  select tollgate_private.link_customer(record_checkout.user_id, record_checkout.provider, record_checkout.extra ->> 'customer_id')
  where record_checkout.extra ->> 'customer_id' is not null;

  -- The older sessions the caller expired at Stripe before this checkout: not open any more.
  update tollgate_private.provider_refs r
  set details = r.details || jsonb_build_object('state', 'expired')
  where r.provider = 'stripe' and r.object_type = 'checkout_session'
    and r.user_id = record_checkout.user_id
    and r.provider_id in (
      select jsonb_array_elements_text(coalesce(record_checkout.extra -> 'expired_sessions', '[]'::jsonb)));

  -- The Stripe coupon made for a Tollgate coupon on its first use is reused from then on, unless
  -- the coupon's terms changed since this checkout read them (then it names the old terms).
  update tollgate_private.coupons c
  set stripe_coupon_id = record_checkout.extra ->> 'stripe_coupon_id'
  where c.code = record_checkout.extra ->> 'coupon_code'
    and c.stripe_coupon_id is null
    and record_checkout.extra ->> 'stripe_coupon_id' = tollgate_private.stripe_coupon_name(c)
$$;

comment on function tollgate_private.record_checkout(uuid, text, text, uuid, text, bigint, text, jsonb) is
  E'Remembers a checkout created at the provider (Stripe session or Razorpay order): whose it is, the plan and the amount it must be paid with; extra.customer_id links the provider customer used, extra.stripe_coupon_id the Stripe coupon made for extra.coupon_code (kept while it names the coupon''s current terms), extra.expired_sessions lists the user''s older Checkout Sessions expired at Stripe for this one.';

revoke all on function tollgate_private.record_checkout(uuid, text, text, uuid, text, bigint, text, jsonb) from public, anon, authenticated, service_role;
