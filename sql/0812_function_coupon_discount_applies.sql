create function tollgate_private.coupon_discount_applies(
  duration text,
  duration_in_months integer,
  redeemed_at timestamptz,
  billed_at timestamptz
)
returns boolean
language sql
immutable
security invoker
set search_path = ''
as $$
  -- Stripe's rule: once = the payment that redeemed it only; repeating = payments billed before
  -- redemption + N months (a monthly plan with 3 months pays 3 discounted periods); forever = all.
  select case coupon_discount_applies.duration
    when 'forever' then true
    when 'repeating' then coupon_discount_applies.billed_at
      < coupon_discount_applies.redeemed_at + make_interval(months => coupon_discount_applies.duration_in_months)
    else coupon_discount_applies.billed_at <= coupon_discount_applies.redeemed_at
  end;
$$;

comment on function tollgate_private.coupon_discount_applies(text, integer, timestamptz, timestamptz) is
  E'Whether a coupon redeemed at redeemed_at still discounts a payment billed at billed_at (the start of the period it pays): once only the redeeming payment, repeating those billed within duration_in_months of the redemption, forever all of them.';

revoke all on function tollgate_private.coupon_discount_applies(text, integer, timestamptz, timestamptz) from public, anon, authenticated, service_role;
