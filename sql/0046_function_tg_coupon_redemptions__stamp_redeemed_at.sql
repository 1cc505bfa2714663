create function tollgate_private.tg_coupon_redemptions__stamp_redeemed_at()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  -- Stamped once, when the use becomes redeemed (settle_coupon); a use given back loses it.
  if new.status = 'redeemed' and old.status is distinct from 'redeemed' then
    new.redeemed_at := now();
  elsif new.status in ('reserved', 'released') then
    new.redeemed_at := null;
  end if;
  return new;
end;
$$;

comment on function tollgate_private.tg_coupon_redemptions__stamp_redeemed_at() is
  E'Trigger: stamps coupon_redemptions.redeemed_at with the time a use is paid (status becomes redeemed), the start of the coupon''s duration; clears it when the use is reserved again or given back.';

revoke all on function tollgate_private.tg_coupon_redemptions__stamp_redeemed_at() from public, anon, authenticated, service_role;
