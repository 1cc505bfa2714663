create function tollgate_private.settle_coupon(checkout_ref text, paid boolean)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_found tollgate_private.coupon_redemptions;
  v_redemption tollgate_private.coupon_redemptions;
  v_coupon tollgate_private.coupons;
  v_overrun_id uuid;
  v_why text;
begin
  -- The use this checkout's discount belongs to (the checkout is its current holder or an older one).
  select r.* into v_found
  from tollgate_private.coupon_redemptions r
  where r.checkout_refs @> array[settle_coupon.checkout_ref]
  limit 1;
  if v_found.id is null then
    return;
  end if;

  -- Locks in reserve_coupon's order (coupon, then redemption): a reservation of the same coupon
  -- waits, and max_uses is checked against a count nobody else is moving.
  select c.* into v_coupon from tollgate_private.coupons c where c.code = v_found.coupon_code for update;
  select r.* into v_redemption from tollgate_private.coupon_redemptions r where r.id = v_found.id for update;

  if not settle_coupon.paid then
    -- Only the checkout now holding the reservation gives it back (an older, superseded one holds
    -- nothing); a paid or given-back use is not given back twice.
    if v_redemption.status = 'reserved' and v_redemption.checkout_ref = settle_coupon.checkout_ref then
      update tollgate_private.coupon_redemptions r set status = 'released' where r.id = v_redemption.id;
      update tollgate_private.coupons c
      set times_redeemed = greatest(c.times_redeemed - 1, 0)
      where c.code = v_redemption.coupon_code;
    end if;
    return;
  end if;

  -- GUARD: this checkout was settled as paid already (verify-payment and the webhook both settle).
  if (v_redemption.status = 'redeemed' and v_redemption.checkout_ref = settle_coupon.checkout_ref)
    or exists (
      select from tollgate_private.coupon_redemptions r
      where r.checkout_ref = settle_coupon.checkout_ref and r.status = 'overrun') then
    return;
  end if;

  if v_redemption.status = 'reserved' then
    -- The use is held: by this checkout, or by a newer open one of the same user, which loses it
    -- (one use per account: if that one is paid too, it is an overrun).
    update tollgate_private.coupon_redemptions r
    set status = 'redeemed', checkout_ref = settle_coupon.checkout_ref
    where r.id = v_redemption.id;
    return;
  end if;

  if v_redemption.status = 'released' and (v_coupon.max_uses is null or v_coupon.times_redeemed < v_coupon.max_uses) then
    -- Paid after its use was given back (e.g. by maintenance), and a use is left: it takes it now.
    update tollgate_private.coupons c set times_redeemed = c.times_redeemed + 1 where c.code = v_coupon.code;
    update tollgate_private.coupon_redemptions r
    set status = 'redeemed', checkout_ref = settle_coupon.checkout_ref
    where r.id = v_redemption.id;
    return;
  end if;

  -- The checkout was paid with a discount no use is left for: the payment stands (the provider
  -- took it), the overrun is recorded where an operator sees it and times_redeemed stays within
  -- max_uses.
  if v_redemption.status = 'released' then
    v_why := format('no use of %s left (%s of %s taken) when the checkout was paid after its reservation was released',
      v_coupon.code, v_coupon.times_redeemed, v_coupon.max_uses);
    -- It keeps its checkout_refs: a later payment of another of them finds this row (an overrun too).
    update tollgate_private.coupon_redemptions r
    set status = 'overrun', checkout_ref = settle_coupon.checkout_ref
    where r.id = v_redemption.id;
    v_overrun_id := v_redemption.id;
  else
    -- redeemed (or overrun) by another checkout of the same account: a second discount.
    v_why := format('%s was already used by this account (checkout %s)', v_coupon.code, v_redemption.checkout_ref);
    insert into tollgate_private.coupon_redemptions (coupon_code, user_id, plan_id, provider, checkout_ref, checkout_refs, status)
    values (v_redemption.coupon_code, v_redemption.user_id, v_redemption.plan_id, v_redemption.provider,
      settle_coupon.checkout_ref, '{}', 'overrun')
    returning id into v_overrun_id;
  end if;
  update tollgate_private.coupons c set times_overrun = c.times_overrun + 1 where c.code = v_coupon.code;
  insert into tollgate_private.audit_log (
    table_name, record_id, user_id, action, old_values, new_values, actor_user_id, actor_role, reason)
  values (
    'coupon_redemptions', v_overrun_id, v_redemption.user_id,
    case when v_overrun_id = v_redemption.id then 'update' else 'insert' end,
    case when v_overrun_id = v_redemption.id then jsonb_build_object('status', v_redemption.status) end,
    jsonb_build_object('status', 'overrun', 'coupon_code', v_coupon.code, 'checkout_ref', settle_coupon.checkout_ref),
    tollgate_private.caller_id(),
    tollgate_private.caller_role(),
    concat_ws(' ', 'coupon_overrun:', v_why,
      '(' || nullif(current_setting('tollgate.audit_reason', true), '') || ')'));
end;
$$;

comment on function tollgate_private.settle_coupon(text, boolean) is
  E'Settles the coupon use a checkout''s discount belongs to. Paid: redeemed when the use is held (by this checkout, or by a newer open one of the same user, which loses it) or, given back meanwhile, when a use is left; otherwise the payment is recorded as an overrun (status overrun, coupons.times_overrun, audit_log) and times_redeemed never passes max_uses. Not paid: gives the use back when this checkout holds it. Settling a checkout again changes nothing.';

revoke all on function tollgate_private.settle_coupon(text, boolean) from public, anon, authenticated, service_role;
