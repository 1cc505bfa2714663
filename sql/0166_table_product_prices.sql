create table tollgate_private.product_prices (
  price_id text primary key check (length(price_id) between 1 and 255),
  product_id text not null references tollgate.products (id) on delete cascade,
  provider text not null default 'stripe' check (provider in ('stripe')),
  amount bigint not null check (amount >= 0),
  currency text not null check (currency ~ '^[a-z]{3}$'),
  active boolean not null default true,
  created_at timestamptz not null default now()
);

create index product_prices_product_id_idx on tollgate_private.product_prices (product_id);

comment on table tollgate_private.product_prices is
  E'Every provider price a product (one-time purchase) ever had. Prices are immutable at Stripe, so a changed amount gets a new price; a payment made at an old price still finds its product through this table.';
comment on column tollgate_private.product_prices.price_id is E'The provider''s one-time price id, e.g. price_1Q....';
comment on column tollgate_private.product_prices.product_id is E'The product this price sells.';
comment on column tollgate_private.product_prices.provider is E'The provider of the price: stripe.';
comment on column tollgate_private.product_prices.amount is E'Amount of one unit at this price, in minor units of currency.';
comment on column tollgate_private.product_prices.currency is E'Lower-case ISO 4217 currency code of the price.';
comment on column tollgate_private.product_prices.active is E'True for the price new checkouts use (the product''s stripe_price_id); archived prices are false.';
comment on column tollgate_private.product_prices.created_at is E'When the price was recorded.';

alter table tollgate_private.product_prices enable row level security;

-- Only Tollgate's own functions and the stripe:sync CLI (running as the owner) read or write it.
create policy "Clients never read or write product prices" on tollgate_private.product_prices
  as restrictive
  for all to anon, authenticated
  using (false)
  with check (false);
