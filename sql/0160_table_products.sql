create table tollgate.products (
  id text primary key check (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  name text not null check (length(name) between 1 and 200),
  description text,
  amount bigint not null check (amount > 0),
  currency text not null default 'usd' check (currency ~ '^[a-z]{3}$'),
  metric text not null check (length(metric) between 1 and 100),
  credits bigint not null check (credits > 0),
  credits_valid_days integer check (credits_valid_days between 1 and 3650),
  stripe_price_id text unique,
  active boolean not null default true,
  sort_order integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

comment on table tollgate.products is
  E'One-time purchases users can buy: each unit grants credits of one metric, used once the plan''s quota for that metric is spent.';
comment on column tollgate.products.id is E'Product id, a slug (e.g. api_calls_pack).';
comment on column tollgate.products.name is E'Name shown to users.';
comment on column tollgate.products.description is E'What the product gives, in a sentence.';
comment on column tollgate.products.amount is E'Price of one unit in minor units of currency, before member discounts and coupons.';
comment on column tollgate.products.currency is E'Lower-case ISO 4217 currency code.';
comment on column tollgate.products.metric is E'The usage metric its credits add to (a metric of tollgate.plan_limits).';
comment on column tollgate.products.credits is E'Credits one unit grants.';
comment on column tollgate.products.credits_valid_days is E'Days the credits stay usable after the purchase is paid; null = they never expire.';
comment on column tollgate.products.stripe_price_id is E'The Stripe price of one unit (set by npm run stripe:sync).';
comment on column tollgate.products.active is E'Only active products can be bought; switch one off without deleting it.';
comment on column tollgate.products.sort_order is E'Order in which apps list products.';
comment on column tollgate.products.created_at is E'When the product was created.';
comment on column tollgate.products.updated_at is E'When the row was last changed.';

alter table tollgate.products enable row level security;

create policy "Anyone can read active products" on tollgate.products
  for select to anon
  using (active);
create policy "Signed-in users read active products, admins read all" on tollgate.products
  for select to authenticated
  using (active or (select tollgate_private.is_admin()));

grant select on tollgate.products to anon, authenticated, service_role;

create trigger _100_set_updated_at
  before update on tollgate.products
  for each row execute function tollgate_private.tg__set_updated_at();
