create table tollgate_private.coupons (
  code text primary key check (code ~ '^[A-Z0-9][A-Z0-9_-]{0,63}$'),
  percent_off integer check (percent_off between 1 and 100),
  amount_off bigint check (amount_off > 0),
  currency text check (currency ~ '^[a-z]{3}$'),
  plan_ids text[],
  max_uses integer check (max_uses > 0),
  times_redeemed integer not null default 0 check (times_redeemed >= 0),
  valid_from timestamptz,
  valid_until timestamptz,
  active boolean not null default true,
  stripe_coupon_id text unique,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Added in December (after updated_at, where ALTER TABLE puts it).
  times_overrun integer not null default 0 check (times_overrun >= 0),
  -- Added for issue 15 (Stripe's coupon duration), last for the same reason.
  duration text not null default 'once' check (duration in ('once', 'repeating', 'forever')),
  duration_in_months integer check (duration_in_months between 1 and 120),
  constraint coupons_one_discount check ((percent_off is null) <> (amount_off is null)),
  constraint coupons_amount_has_currency check ((amount_off is null) = (currency is null)),
  constraint coupons_not_over_redeemed check (max_uses is null or times_redeemed <= max_uses),
  constraint coupons_window_order check (valid_until > valid_from),
  constraint coupons_months_when_repeating check ((duration = 'repeating') = (duration_in_months is not null))
);

comment on table tollgate_private.coupons is
  E'Discount codes accepted at checkout. times_redeemed never exceeds max_uses, whatever the concurrency.';
comment on column tollgate_private.coupons.code is E'The code users type, upper case, e.g. WELCOME20.';
comment on column tollgate_private.coupons.percent_off is E'Percentage discount (1-100); set this or amount_off.';
comment on column tollgate_private.coupons.amount_off is E'Fixed discount in minor units of currency; set this or percent_off.';
comment on column tollgate_private.coupons.currency is E'Currency of amount_off.';
comment on column tollgate_private.coupons.plan_ids is E'Plans the coupon applies to; null = every paid plan.';
comment on column tollgate_private.coupons.max_uses is E'How many redemptions are allowed in total; null = no limit.';
comment on column tollgate_private.coupons.times_redeemed is E'Uses taken so far: reserved by an open checkout or redeemed by a paid one. Never exceeds max_uses.';
comment on column tollgate_private.coupons.times_overrun is
  E'Paid checkouts that carried the discount although no use was left for them (max_uses reached, or the account had used the coupon already): not counted in times_redeemed, each one a coupon_redemptions row with status overrun and an audit_log row, for an operator to look at.';
comment on column tollgate_private.coupons.duration is
  E'How long the discount lasts on a subscription, as Stripe''s coupon duration: once (the first payment only; the default, for introductory offers such as WELCOME20), repeating (every payment billed within duration_in_months of the redemption) or forever. One-time purchases are paid once whatever it says.';
comment on column tollgate_private.coupons.duration_in_months is E'Months a repeating discount lasts from its redemption; set exactly when duration is repeating.';
comment on column tollgate_private.coupons.valid_from is E'Not valid before this moment; null = from creation.';
comment on column tollgate_private.coupons.valid_until is E'Not valid from this moment on; null = no end.';
comment on column tollgate_private.coupons.active is E'Switch a coupon off without deleting it.';
comment on column tollgate_private.coupons.stripe_coupon_id is E'The matching Stripe coupon, created on first use with the same discount, duration and redeem_by (valid_until); forgotten when any of them changes, so the next checkout makes a new one.';
comment on column tollgate_private.coupons.created_at is E'When the coupon was created.';
comment on column tollgate_private.coupons.updated_at is E'When the row was last changed.';

alter table tollgate_private.coupons enable row level security;

-- Only Tollgate's own functions (running as the owner) read or write it.
create policy "Clients never read or write coupons" on tollgate_private.coupons
  as restrictive
  for all to anon, authenticated
  using (false)
  with check (false);

create trigger _100_set_updated_at
  before update on tollgate_private.coupons
  for each row execute function tollgate_private.tg__set_updated_at();

-- A Stripe coupon cannot change its discount, duration or redeem_by: a changed coupon gets a new one.
create trigger _200_forget_stripe_coupon
  before update of percent_off, amount_off, currency, duration, duration_in_months, valid_until
  on tollgate_private.coupons
  for each row execute function tollgate_private.tg_coupons__forget_stripe_coupon();
