create table tollgate_private.plan_prices (
  price_id text primary key check (length(price_id) between 1 and 255),
  plan_id text not null references tollgate.plans (id) on delete cascade,
  provider text not null default 'stripe' check (provider in ('stripe')),
  amount bigint not null check (amount >= 0),
  currency text not null check (currency ~ '^[a-z]{3}$'),
  "interval" text not null check ("interval" in ('month', 'year')),
  active boolean not null default true,
  created_at timestamptz not null default now()
);

create index plan_prices_plan_id_idx on tollgate_private.plan_prices (plan_id);

comment on table tollgate_private.plan_prices is
  E'Every provider price a plan ever had. Prices are immutable at Stripe, so a changed amount gets a new price; subscribers on an old price still belong to its plan through this table.';
comment on column tollgate_private.plan_prices.price_id is E'The provider''s price id, e.g. price_1Q....';
comment on column tollgate_private.plan_prices.plan_id is E'The plan this price bills.';
comment on column tollgate_private.plan_prices.provider is E'The provider of the price: stripe.';
comment on column tollgate_private.plan_prices.amount is E'Amount per interval of the price, in minor units of currency.';
comment on column tollgate_private.plan_prices.currency is E'Lower-case ISO 4217 currency code of the price.';
comment on column tollgate_private.plan_prices."interval" is E'Billing interval of the price: month or year.';
comment on column tollgate_private.plan_prices.active is E'True for the price new subscriptions get (the plan''s stripe_price_id); archived prices are false.';
comment on column tollgate_private.plan_prices.created_at is E'When the price was recorded.';

alter table tollgate_private.plan_prices enable row level security;

-- Only Tollgate's own functions and the stripe:sync CLI (running as the owner) read or write it.
create policy "Clients never read or write plan prices" on tollgate_private.plan_prices
  as restrictive
  for all to anon, authenticated
  using (false)
  with check (false);
