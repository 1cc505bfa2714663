create function tollgate_private.settle_coupon(checkout_ref text, paid boolean)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_redemption tollgate_private.coupon_redemptions;
begin
  select r.* into v_redemption
  from tollgate_private.coupon_redemptions r
  where r.checkout_ref = settle_coupon.checkout_ref and r.status = 'reserved'
  for update;
  if v_redemption.id is null then
    return;
  end if;
  if settle_coupon.paid then
    update tollgate_private.coupon_redemptions r set status = 'redeemed' where r.id = v_redemption.id;
  else
    -- The checkout failed or expired: give the use back.
    update tollgate_private.coupon_redemptions r set status = 'released' where r.id = v_redemption.id;
    update tollgate_private.coupons c
    set times_redeemed = greatest(c.times_redeemed - 1, 0)
    where c.code = v_redemption.coupon_code;
  end if;
end;
$$;

comment on function tollgate_private.settle_coupon(text, boolean) is
  E'Settles the coupon reservation of a checkout: redeemed when paid, released (its use given back) when the checkout failed or expired. Does nothing when there is no open reservation.';

revoke all on function tollgate_private.settle_coupon(text, boolean) from public, anon, authenticated, service_role;
