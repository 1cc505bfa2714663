create table tollgate_private.customers (
  user_id uuid not null references auth.users (id) on delete cascade,
  provider text not null check (provider in ('stripe', 'razorpay')),
  provider_customer_id text not null check (length(provider_customer_id) between 1 and 255),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (user_id, provider),
  constraint customers_provider_customer_id_key unique (provider, provider_customer_id)
);

comment on table tollgate_private.customers is
  E'Which provider customer belongs to which user: one per user and provider, never shared.';
comment on column tollgate_private.customers.user_id is E'The user (auth.users).';
comment on column tollgate_private.customers.provider is E'stripe or razorpay.';
comment on column tollgate_private.customers.provider_customer_id is E'The provider''s customer id, e.g. cus_... for Stripe.';
comment on column tollgate_private.customers.created_at is E'When the link was recorded.';
comment on column tollgate_private.customers.updated_at is E'When the row was last changed.';

alter table tollgate_private.customers enable row level security;

-- Only Tollgate's own functions (running as the owner) read or write it.
create policy "Clients never read or write customers" on tollgate_private.customers
  as restrictive
  for all to anon, authenticated
  using (false)
  with check (false);

create trigger _100_set_updated_at
  before update on tollgate_private.customers
  for each row execute function tollgate_private.tg__set_updated_at();
