create function tollgate_private.release_abandoned_coupon_reservations(as_of timestamptz default now())
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_released integer := 0;
  v_reservation record;
begin
  -- Coupon uses held by checkouts abandoned for two days go back (Stripe sessions expire in one).
  for v_reservation in
    select r.checkout_ref
    from tollgate_private.coupon_redemptions r
    where r.status = 'reserved' and r.updated_at <= release_abandoned_coupon_reservations.as_of - interval '2 days'
    for update skip locked
  loop
    perform tollgate_private.settle_coupon(v_reservation.checkout_ref, false);
    v_released := v_released + 1;
  end loop;
  return v_released;
end;
$$;

comment on function tollgate_private.release_abandoned_coupon_reservations(timestamptz) is
  E'The coupon part of maintenance at as_of: gives back the coupon uses still reserved by checkouts abandoned for two days (one checkout being settled right now is skipped). Returns how many it gave back.';

revoke all on function tollgate_private.release_abandoned_coupon_reservations(timestamptz) from public, anon, authenticated, service_role;
