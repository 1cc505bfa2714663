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
  if settle_coupon.paid then
    -- Any checkout that carried the reservation redeems it, even one given back meanwhile.
    select r.* into v_redemption
    from tollgate_private.coupon_redemptions r
    where r.checkout_refs @> array[settle_coupon.checkout_ref] and r.status in ('reserved', 'released')
    for update;
    if v_redemption.id is null then
      return;
    end if;
    update tollgate_private.coupon_redemptions r set status = 'redeemed' where r.id = v_redemption.id;
    if v_redemption.status = 'released' then
      -- Its use was given back: count it again (never past max_uses, which the check forbids).
      update tollgate_private.coupons c
      set times_redeemed = case when c.max_uses is null then c.times_redeemed + 1 else least(c.times_redeemed + 1, c.max_uses) end
      where c.code = v_redemption.coupon_code;
    end if;
  else
    -- Only the checkout now holding the reservation can give it back.
    select r.* into v_redemption
    from tollgate_private.coupon_redemptions r
    where r.checkout_ref = settle_coupon.checkout_ref and r.status = 'reserved'
    for update;
    if v_redemption.id is null then
      return;
    end if;
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
