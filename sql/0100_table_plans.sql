create table tollgate.plans (
  id text primary key check (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  name text not null check (length(name) between 1 and 200),
  description text,
  amount bigint not null default 0 check (amount >= 0),
  currency text not null default 'usd' check (currency ~ '^[a-z]{3}$'),
  "interval" text not null default 'month' check ("interval" in ('month', 'year')),
  trial_days integer not null default 0 check (trial_days between 0 and 730),
  features text[] not null default '{}',
  active boolean not null default true,
  sort_order integer not null default 0,
  stripe_price_id text unique,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

comment on table tollgate.plans is
  E'The plans users can be on. Everyone without a live subscription is on plan free.';
comment on column tollgate.plans.id is E'Plan slug, e.g. free, pro, enterprise.';
comment on column tollgate.plans.name is E'Name shown to users.';
comment on column tollgate.plans.description is E'Longer description shown to users.';
comment on column tollgate.plans.amount is E'Price per interval in minor units of currency (cents, paise).';
comment on column tollgate.plans.currency is E'Lower-case ISO 4217 currency code, e.g. usd or inr.';
comment on column tollgate.plans."interval" is E'Billing interval: month or year.';
comment on column tollgate.plans.trial_days is E'Days of free trial a new subscription gets (0 = none).';
comment on column tollgate.plans.features is E'Feature flags or bullet points of the plan, for display.';
comment on column tollgate.plans.active is E'Inactive plans cannot be bought; existing subscribers keep them.';
comment on column tollgate.plans.sort_order is E'Display order, lowest first.';
comment on column tollgate.plans.stripe_price_id is
  E'The Stripe price of this plan; a Stripe subscription is on the plan whose price its first item has.';
comment on column tollgate.plans.created_at is E'When the plan was created.';
comment on column tollgate.plans.updated_at is E'When the plan was last changed.';

alter table tollgate.plans enable row level security;

create policy "Anyone can read active plans" on tollgate.plans
  for select to anon
  using (active);
create policy "Signed-in users read active plans, admins read all" on tollgate.plans
  for select to authenticated
  using (active or (select tollgate_private.is_admin()));

grant select on tollgate.plans to anon, authenticated, service_role;

create trigger _100_set_updated_at
  before update on tollgate.plans
  for each row execute function tollgate_private.tg__set_updated_at();
