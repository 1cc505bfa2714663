create function tollgate_private.tg_coupons__forget_stripe_coupon()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  -- Stripe coupons are immutable in these terms: the one made before the change would give the old
  -- discount or duration, so the next Stripe checkout creates one for the new terms.
  if (new.percent_off, new.amount_off, new.currency, new.duration, new.duration_in_months, new.valid_until)
    is distinct from (old.percent_off, old.amount_off, old.currency, old.duration, old.duration_in_months, old.valid_until)
  then
    new.stripe_coupon_id := null;
  end if;
  return new;
end;
$$;

comment on function tollgate_private.tg_coupons__forget_stripe_coupon() is
  E'Trigger: clears coupons.stripe_coupon_id when the discount, currency, duration or valid_until changes, so a Stripe coupon made with other terms is never reused.';

revoke all on function tollgate_private.tg_coupons__forget_stripe_coupon() from public, anon, authenticated, service_role;
