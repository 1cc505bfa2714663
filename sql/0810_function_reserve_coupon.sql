create function tollgate_private.reserve_coupon(
  code text,
  user_id uuid,
  plan_id text,
  provider text,
  checkout_ref text,
  as_of timestamptz
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
-- The ON CONFLICT target names columns (coupon_code, user_id) that share a name with arguments.
#variable_conflict use_column
declare
  v_code text := upper(btrim(reserve_coupon.code));
  v_coupon tollgate_private.coupons;
  v_redemption tollgate_private.coupon_redemptions;
begin
  -- The row lock serialises reservations of one coupon: max_uses can never be overrun.
  select c.* into v_coupon from tollgate_private.coupons c where c.code = v_code for update;

  if v_coupon.code is null or not v_coupon.active then
    raise exception 'Coupon % does not exist', coalesce(v_code, '')
      using errcode = 'CPINV', hint = 'Check the code.';
  end if;
  if v_coupon.valid_from > reserve_coupon.as_of or v_coupon.valid_until <= reserve_coupon.as_of then
    raise exception 'Coupon % is not valid now', v_code
      using errcode = 'CPEXP',
            detail = format('valid from %s until %s', coalesce(v_coupon.valid_from::text, '-'), coalesce(v_coupon.valid_until::text, '-'));
  end if;
  if v_coupon.plan_ids is not null and not (reserve_coupon.plan_id = any (v_coupon.plan_ids)) then
    raise exception 'Coupon % does not apply to plan %', v_code, reserve_coupon.plan_id
      using errcode = 'CPPLN', detail = format('applies to %s', array_to_string(v_coupon.plan_ids, ', '));
  end if;

  -- Redeemed, or already overrun by a paid checkout: the account has had its discount.
  if exists (
    select from tollgate_private.coupon_redemptions r
    where r.coupon_code = v_code and r.user_id = reserve_coupon.user_id and r.status in ('redeemed', 'overrun')
  ) then
    raise exception 'Coupon % was already used by this account', v_code using errcode = 'CPUSD';
  end if;

  select r.* into v_redemption
  from tollgate_private.coupon_redemptions r
  where r.coupon_code = v_code and r.user_id = reserve_coupon.user_id and r.status <> 'overrun';

  if v_redemption.status is distinct from 'reserved' then
    -- A new use (or a use again after a released reservation) takes one of max_uses.
    if v_coupon.max_uses is not null and v_coupon.times_redeemed >= v_coupon.max_uses then
      raise exception 'Coupon % has been used up', v_code
        using errcode = 'CPMAX', hint = 'Check out without the coupon.';
    end if;
    update tollgate_private.coupons c set times_redeemed = c.times_redeemed + 1 where c.code = v_code;
  end if;

  -- One open discounted checkout per user and coupon: the new checkout takes the reservation over
  -- (checkout_ref) and the older ones no longer hold it. Every checkout that carried the discount
  -- stays listed (checkout_refs), so paying an older one is still accounted for by settle_coupon:
  -- it redeems the use while one is held or left, and is recorded as an overrun otherwise.
  insert into tollgate_private.coupon_redemptions (coupon_code, user_id, plan_id, provider, checkout_ref, checkout_refs, status)
  values (v_code, reserve_coupon.user_id, reserve_coupon.plan_id, reserve_coupon.provider, reserve_coupon.checkout_ref,
    array[reserve_coupon.checkout_ref], 'reserved')
  on conflict (coupon_code, user_id) where status <> 'overrun' do update
    set plan_id = excluded.plan_id,
        provider = excluded.provider,
        checkout_ref = excluded.checkout_ref,
        checkout_refs = tollgate_private.coupon_redemptions.checkout_refs || excluded.checkout_ref,
        status = 'reserved'
  returning * into v_redemption;

  return jsonb_build_object(
    'code', v_coupon.code,
    'percent_off', v_coupon.percent_off,
    'amount_off', v_coupon.amount_off,
    'currency', v_coupon.currency,
    'stripe_coupon_id', v_coupon.stripe_coupon_id,
    'duration', v_coupon.duration,
    'duration_in_months', v_coupon.duration_in_months,
    'valid_until', v_coupon.valid_until,
    'redemption_id', v_redemption.id
  );
end;
$$;

comment on function tollgate_private.reserve_coupon(text, uuid, text, text, text, timestamptz) is
  E'Reserves one use of a coupon for a checkout, atomically: refuses unknown (CPINV), out-of-window (CPEXP), wrong-plan (CPPLN), used-up (CPMAX) and already-used (CPUSD) coupons. A user''s new checkout takes over the use their older open checkout held (one open discounted checkout per user and coupon). Returns the discount with its duration (once, repeating + duration_in_months, forever) and valid_until (the Stripe coupon''s redeem_by).';

revoke all on function tollgate_private.reserve_coupon(text, uuid, text, text, text, timestamptz) from public, anon, authenticated, service_role;
