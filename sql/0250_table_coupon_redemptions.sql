create table tollgate_private.coupon_redemptions (
  id uuid primary key default gen_random_uuid(),
  coupon_code text not null references tollgate_private.coupons (code) on update cascade on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  plan_id text not null references tollgate.plans (id) on update cascade,
  provider text not null check (provider in ('stripe', 'razorpay')),
  checkout_ref text,
  checkout_refs text[] not null default '{}',
  status text not null default 'reserved' check (status in ('reserved', 'redeemed', 'released', 'overrun')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Added for issue 15 (coupon durations count from the redemption), last like every added column.
  redeemed_at timestamptz
);

-- One use per user and coupon; overruns (paid checkouts past the limits) are extra rows beside it.
create unique index coupon_redemptions_one_per_user
  on tollgate_private.coupon_redemptions (coupon_code, user_id)
  where status <> 'overrun';
-- A paid checkout is recorded as an overrun once, whichever of webhook and verify comes first.
create unique index coupon_redemptions_one_overrun_per_checkout
  on tollgate_private.coupon_redemptions (checkout_ref)
  where status = 'overrun';

comment on index tollgate_private.coupon_redemptions_one_per_user is
  E'One use of a coupon per user (reserved, redeemed or released); rows with status overrun are not uses and sit beside it.';
comment on index tollgate_private.coupon_redemptions_one_overrun_per_checkout is
  E'A paid checkout is recorded as an overrun at most once.';

create index coupon_redemptions_user_id_idx on tollgate_private.coupon_redemptions (user_id);
create index coupon_redemptions_plan_id_idx on tollgate_private.coupon_redemptions (plan_id);
create index coupon_redemptions_checkout_ref_idx on tollgate_private.coupon_redemptions (checkout_ref);
create index coupon_redemptions_checkout_refs_idx on tollgate_private.coupon_redemptions using gin (checkout_refs);

comment on table tollgate_private.coupon_redemptions is
  E'Who used which coupon: reserved at checkout (one open discounted checkout per user and coupon: a new checkout takes the reservation over), redeemed when paid, released when the checkout expires or fails. A paid checkout that carried the discount with no use left for it (max_uses reached, or the account used the coupon already) is recorded as an overrun: never counted in times_redeemed, never hidden.';
comment on column tollgate_private.coupon_redemptions.id is E'Redemption id.';
comment on column tollgate_private.coupon_redemptions.coupon_code is E'The coupon.';
comment on column tollgate_private.coupon_redemptions.user_id is E'Who used it.';
comment on column tollgate_private.coupon_redemptions.plan_id is E'The plan it was used for.';
comment on column tollgate_private.coupon_redemptions.provider is E'stripe or razorpay.';
comment on column tollgate_private.coupon_redemptions.checkout_ref is E'The checkout holding the reservation now (the newest one), or the paid checkout that redeemed it or overran it (Tollgate checkout id).';
comment on column tollgate_private.coupon_redemptions.checkout_refs is E'Every checkout that carried this use''s discount, newest last: a payment of any of them is accounted against this row (redeemed while a use is held or left, else an overrun). Empty on the extra overrun rows a second paid checkout adds.';
comment on column tollgate_private.coupon_redemptions.status is E'reserved (an open checkout holds the use), redeemed (paid), released (given back: abandoned, failed or expired), or overrun (a paid checkout that carried the discount with no use left for it: see coupons.times_overrun and audit_log).';
comment on column tollgate_private.coupon_redemptions.redeemed_at is E'When the use was paid (status became redeemed): a repeating or forever coupon''s discount counts its duration from here. Null while reserved or released.';
comment on column tollgate_private.coupon_redemptions.created_at is E'When it was reserved.';
comment on column tollgate_private.coupon_redemptions.updated_at is E'When the row was last changed.';

alter table tollgate_private.coupon_redemptions enable row level security;

-- Only Tollgate's own functions (running as the owner) read or write it.
create policy "Clients never read or write coupon redemptions" on tollgate_private.coupon_redemptions
  as restrictive
  for all to anon, authenticated
  using (false)
  with check (false);

create trigger _100_set_updated_at
  before update on tollgate_private.coupon_redemptions
  for each row execute function tollgate_private.tg__set_updated_at();

-- The moment a use is paid anchors the coupon's duration (repeating: N months from it).
create trigger _200_stamp_redeemed_at
  before update of status on tollgate_private.coupon_redemptions
  for each row execute function tollgate_private.tg_coupon_redemptions__stamp_redeemed_at();
