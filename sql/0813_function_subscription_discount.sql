create function tollgate_private.subscription_discount(
  subscription_id uuid,
  billed_at timestamptz default now()
)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  -- A use redeemed with the subscription's provider belongs to the user's subscription running
  -- when it was paid (a Razorpay order, a Stripe subscription whose row came first), else to the
  -- first one created after it (a Stripe checkout applied before its subscription's row). The
  -- newest use that still applies wins (a Razorpay renewal may be bought with a code of its own).
  select jsonb_build_object(
    'code', c.code,
    'percent_off', c.percent_off,
    'amount_off', c.amount_off,
    'currency', c.currency,
    'duration', c.duration,
    'duration_in_months', c.duration_in_months,
    'redeemed_at', r.redeemed_at,
    'ends_at', case c.duration
      when 'forever' then null
      when 'repeating' then r.redeemed_at + make_interval(months => c.duration_in_months)
      else r.redeemed_at end)
  from tollgate.subscriptions s
  join tollgate_private.coupon_redemptions r
    on r.user_id = s.user_id and r.provider = s.provider and r.status = 'redeemed'
    and (
      (s.created_at <= r.redeemed_at and r.redeemed_at < coalesce(s.ended_at, 'infinity'))
      or (s.created_at > r.redeemed_at and not exists (
        select from tollgate.subscriptions o
        where o.user_id = s.user_id and o.provider = s.provider and o.id <> s.id
          and o.created_at <= s.created_at
          and r.redeemed_at < coalesce(o.ended_at, 'infinity')))
    )
  join tollgate_private.coupons c on c.code = r.coupon_code
  where s.id = subscription_discount.subscription_id
    and tollgate_private.coupon_discount_applies(c.duration, c.duration_in_months, r.redeemed_at, subscription_discount.billed_at)
  order by r.redeemed_at desc
  limit 1;
$$;

comment on function tollgate_private.subscription_discount(uuid, timestamptz) is
  E'The coupon discount that still applies to a subscription''s payment billed at billed_at (e.g. its current_period_end for the next renewal, as admin metrics need for MRR after recurring discounts): {code, percent_off, amount_off, currency, duration, duration_in_months, redeemed_at, ends_at (null = forever)}, or null when none applies.';

revoke all on function tollgate_private.subscription_discount(uuid, timestamptz) from public, anon, authenticated, service_role;
