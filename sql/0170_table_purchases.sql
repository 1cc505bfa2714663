create table tollgate.purchases (
  id uuid primary key default gen_random_uuid(),
  -- Null once the buyer is forgotten (deleted): a payment record stays, as an invoice does.
  user_id uuid references auth.users (id) on delete set null,
  product_id text not null references tollgate.products (id) on update cascade,
  quantity integer not null default 1 check (quantity between 1 and 1000),
  provider text not null check (provider in ('stripe', 'razorpay', 'internal')),
  status text not null default 'paid'
    check (status in ('paid', 'refunded', 'partially_refunded', 'disputed')),
  currency text not null check (currency ~ '^[a-z]{3}$'),
  amount_paid bigint not null check (amount_paid >= 0),
  amount_refunded bigint not null default 0 check (amount_refunded >= 0),
  coupon_code text,
  checkout_id uuid unique,
  paid_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint purchases_refund_within_payment check (amount_refunded <= amount_paid)
);

create index purchases_user_id_created_at_idx on tollgate.purchases (user_id, created_at desc);
create index purchases_product_id_idx on tollgate.purchases (product_id);

comment on table tollgate.purchases is
  E'One-time purchases of products, one row per paid checkout (written once, whichever of the webhook and verify-payment comes first). Written only by Tollgate.';
comment on column tollgate.purchases.id is E'Purchase id.';
comment on column tollgate.purchases.user_id is E'Who bought it (auth.users); null once that user was deleted: the payment is kept for the accounts, without personal data.';
comment on column tollgate.purchases.product_id is E'What was bought.';
comment on column tollgate.purchases.quantity is E'How many units.';
comment on column tollgate.purchases.provider is E'Who took the payment: stripe, razorpay or internal.';
comment on column tollgate.purchases.status is
  E'paid; refunded (all of it, its unused credits revoked); partially_refunded; disputed (the buyer opened a chargeback).';
comment on column tollgate.purchases.currency is E'Lower-case ISO 4217 currency code.';
comment on column tollgate.purchases.amount_paid is E'Amount paid in minor units, after member discount and coupon.';
comment on column tollgate.purchases.amount_refunded is E'Amount refunded so far in minor units; never more than amount_paid.';
comment on column tollgate.purchases.coupon_code is E'The coupon applied at checkout, if any.';
comment on column tollgate.purchases.checkout_id is E'The Tollgate checkout it was paid through: one purchase per checkout.';
comment on column tollgate.purchases.paid_at is E'When the payment was confirmed.';
comment on column tollgate.purchases.created_at is E'When the row was written.';
comment on column tollgate.purchases.updated_at is E'When the row was last changed.';

alter table tollgate.purchases enable row level security;

create policy "Users read their own purchases, admins read all" on tollgate.purchases
  for select to authenticated
  using (user_id = (select auth.uid()) or (select tollgate_private.is_admin()));

grant select on tollgate.purchases to authenticated, service_role;

create trigger _100_set_updated_at
  before update on tollgate.purchases
  for each row execute function tollgate_private.tg__set_updated_at();
