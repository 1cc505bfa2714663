create table tollgate_private.coupon_redemptions (
  id uuid primary key default gen_random_uuid(),
  coupon_code text not null references tollgate_private.coupons (code) on update cascade on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  plan_id text not null references tollgate.plans (id) on update cascade,
  provider text not null check (provider in ('stripe', 'razorpay')),
  checkout_ref text,
  checkout_refs text[] not null default '{}',
  status text not null default 'reserved' check (status in ('reserved', 'redeemed', 'released')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- One redemption per user and coupon.
  constraint coupon_redemptions_coupon_code_user_id_key unique (coupon_code, user_id)
);

create index coupon_redemptions_user_id_idx on tollgate_private.coupon_redemptions (user_id);
create index coupon_redemptions_plan_id_idx on tollgate_private.coupon_redemptions (plan_id);
create index coupon_redemptions_checkout_ref_idx on tollgate_private.coupon_redemptions (checkout_ref);
create index coupon_redemptions_checkout_refs_idx on tollgate_private.coupon_redemptions using gin (checkout_refs);

comment on table tollgate_private.coupon_redemptions is
  E'Who used which coupon: reserved at checkout, redeemed when paid, released when the checkout expires or fails.';
comment on column tollgate_private.coupon_redemptions.id is E'Redemption id.';
comment on column tollgate_private.coupon_redemptions.coupon_code is E'The coupon.';
comment on column tollgate_private.coupon_redemptions.user_id is E'Who used it.';
comment on column tollgate_private.coupon_redemptions.plan_id is E'The plan it was used for.';
comment on column tollgate_private.coupon_redemptions.provider is E'stripe or razorpay.';
comment on column tollgate_private.coupon_redemptions.checkout_ref is E'The checkout currently holding the reservation (Tollgate checkout id).';
comment on column tollgate_private.coupon_redemptions.checkout_refs is E'Every checkout that carried this reservation: paying any of them redeems it.';
comment on column tollgate_private.coupon_redemptions.status is E'reserved, redeemed or released.';
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
