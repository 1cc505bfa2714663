create function tollgate_private.stripe_coupon_name(coupon tollgate_private.coupons)
returns text
language sql
stable
security invoker
set search_path = ''
as $$
  -- The same id stripeCouponParams (packages/providers/stripe/src/billing.ts) gives the Stripe
  -- coupon: tollgate_<code>_<duration><months>_<discount>[_until<unix valid_until>].
  select concat_ws('_',
    'tollgate',
    (stripe_coupon_name.coupon).code,
    (stripe_coupon_name.coupon).duration
      || case when (stripe_coupon_name.coupon).duration = 'repeating'
           then coalesce((stripe_coupon_name.coupon).duration_in_months::text, '') else '' end,
    case when (stripe_coupon_name.coupon).percent_off is not null
      then (stripe_coupon_name.coupon).percent_off::text || 'pct'
      else (stripe_coupon_name.coupon).amount_off::text || coalesce((stripe_coupon_name.coupon).currency, 'usd') end,
    'until' || floor(extract(epoch from (stripe_coupon_name.coupon).valid_until))::bigint::text);
$$;

comment on function tollgate_private.stripe_coupon_name(tollgate_private.coupons) is
  E'The id of the Stripe coupon made for a coupon''s current terms (discount, duration, valid_until as redeem_by), as the billing function names it: record_checkout stores a Stripe coupon id only when it still names the coupon''s terms.';

revoke all on function tollgate_private.stripe_coupon_name(tollgate_private.coupons) from public, anon, authenticated, service_role;
