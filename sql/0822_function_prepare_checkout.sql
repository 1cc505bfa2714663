create function tollgate_private.prepare_checkout(
  user_id uuid,
  plan_id text,
  provider text,
  coupon_code text,
  as_of timestamptz
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_plan tollgate.plans;
  v_live tollgate.subscriptions;
  v_checkout_id uuid := gen_random_uuid();
  v_coupon jsonb;
  v_amount bigint;
  v_renewal_discount jsonb;
begin
  if not exists (select from auth.users u where u.id = prepare_checkout.user_id) then
    raise exception 'Unknown user %', prepare_checkout.user_id using errcode = 'NOUSR';
  end if;
  select p.* into v_plan from tollgate.plans p where p.id = prepare_checkout.plan_id;
  if v_plan.id is null then
    raise exception 'Unknown plan %', prepare_checkout.plan_id using errcode = 'NOPLN';
  end if;
  if not v_plan.active then
    raise exception 'Plan % cannot be bought any more', v_plan.id using errcode = 'PLINA';
  end if;

  select s.* into v_live
  from tollgate.subscriptions s
  where s.user_id = prepare_checkout.user_id and s.status = any (tollgate_private.live_statuses());

  if v_plan.amount = 0 then
    -- A free plan needs no payment: the caller ends the live subscription, if any.
    return jsonb_build_object(
      'kind', 'free',
      'plan', to_jsonb(v_plan),
      'live', tollgate_private.live_subscription_of(prepare_checkout.user_id));
  end if;

  if prepare_checkout.provider = 'stripe' and v_plan.stripe_price_id is null then
    raise exception 'Plan % has no Stripe price', v_plan.id
      using errcode = 'PLINA', hint = 'Set tollgate.plans.stripe_price_id.';
  end if;

  if v_live.id is not null then
    if v_live.plan_id = v_plan.id and v_live.provider = 'stripe' then
      raise exception 'You are already on plan %', v_plan.id using errcode = 'SAMEP';
    end if;
    -- Razorpay is paid one interval at a time: paying again renews (same plan) or switches.
    if not (v_live.provider = 'razorpay' and prepare_checkout.provider = 'razorpay') then
      raise exception 'You already have a % subscription to plan %', v_live.provider, v_live.plan_id
        using errcode = 'HASUB',
              hint = case when v_live.provider = 'stripe'
                then 'Use /billing/change-plan to switch plans.'
                else 'Cancel it first, or pay with the same provider.' end;
    end if;
    -- A paid period is never thrown away: another plan only once the paid one has run out (in
    -- grace or lapsed); the same plan is a renewal, allowed at any time.
    if v_live.plan_id <> v_plan.id and v_live.status = any (tollgate_private.good_standing_statuses())
      and v_live.current_period_end > prepare_checkout.as_of then
      raise exception 'Your plan % is paid until %', v_live.plan_id, v_live.current_period_end
        using errcode = 'HASUB',
              hint = format('Renew %s, or buy %s once the paid period has ended.', v_live.plan_id, v_plan.id);
    end if;
  end if;

  v_amount := v_plan.amount;
  if prepare_checkout.coupon_code is null and v_live.provider = 'razorpay' and v_live.plan_id = v_plan.id then
    -- A Razorpay renewal carries no code: the coupon its subscription was bought with discounts it
    -- while the coupon's duration lasts, counted at the start of the period this order pays.
    v_renewal_discount := tollgate_private.subscription_discount(
      v_live.id, greatest(v_live.current_period_end, prepare_checkout.as_of));
    if v_renewal_discount ->> 'amount_off' is null or v_renewal_discount ->> 'currency' = v_plan.currency then
      v_amount := greatest(
        v_plan.amount
          - coalesce((v_renewal_discount ->> 'amount_off')::bigint, 0)
          - coalesce(round(v_plan.amount * (v_renewal_discount ->> 'percent_off')::numeric / 100)::bigint, 0),
        0);
    else
      v_renewal_discount := null;
    end if;
  end if;
  if prepare_checkout.coupon_code is not null then
    v_coupon := tollgate_private.reserve_coupon(
      prepare_checkout.coupon_code, prepare_checkout.user_id, v_plan.id, prepare_checkout.provider,
      v_checkout_id::text, prepare_checkout.as_of);
    if v_coupon ->> 'amount_off' is not null and v_coupon ->> 'currency' <> v_plan.currency then
      raise exception 'Coupon % is in %, the plan in %', v_coupon ->> 'code', v_coupon ->> 'currency', v_plan.currency
        using errcode = 'CPCUR';
    end if;
    v_amount := greatest(
      v_plan.amount
        - coalesce((v_coupon ->> 'amount_off')::bigint, 0)
        - coalesce(round(v_plan.amount * (v_coupon ->> 'percent_off')::numeric / 100)::bigint, 0),
      0);
  end if;

  return jsonb_build_object(
    'kind', case when v_live.provider = 'razorpay' and v_live.plan_id = v_plan.id then 'renewal' else 'new' end,
    'checkout_id', v_checkout_id,
    'plan', to_jsonb(v_plan),
    'amount', v_amount,
    'currency', v_plan.currency,
    'coupon', v_coupon,
    'renewal_discount', v_renewal_discount,
    'customer_id', (
      select c.provider_customer_id from tollgate_private.customers c
      where c.user_id = prepare_checkout.user_id and c.provider = prepare_checkout.provider),
    -- The user's older Stripe Checkout Sessions that may still be open (Stripe keeps one open 24
    -- hours): the caller expires them at Stripe before opening this one, so at most one checkout
    -- of the user can be paid (and one coupon discount be open).
    'open_sessions', (
      select coalesce(jsonb_agg(r.provider_id order by r.created_at), '[]'::jsonb)
      from tollgate_private.provider_refs r
      where r.user_id = prepare_checkout.user_id
        and r.provider = 'stripe' and r.object_type = 'checkout_session'
        -- A product's checkout is no subscription: buying a pack never stops a plan checkout.
        and r.details ->> 'kind' is distinct from 'purchase'
        and coalesce(r.details ->> 'state', 'open') = 'open'
        and r.created_at > prepare_checkout.as_of - interval '25 hours')
  );
end;
$$;

comment on function tollgate_private.prepare_checkout(uuid, text, text, text, timestamptz) is
  E'First step of a checkout: checks the plan (NOPLN, PLINA) and the user''s live subscription (SAMEP; HASUB for another provider, or for another Razorpay plan while a paid period runs), reserves the coupon if one is given (a Razorpay renewal without one keeps the discount of its subscription''s coupon while its duration lasts: renewal_discount), and returns the checkout id, plan, amount after discount, the user''s provider customer and open_sessions, the user''s Stripe Checkout Sessions that may still be open (the caller expires them first). kind = free means no payment is needed.';

revoke all on function tollgate_private.prepare_checkout(uuid, text, text, text, timestamptz) from public, anon, authenticated, service_role;
