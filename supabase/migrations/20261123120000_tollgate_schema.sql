-- Tollgate schema: plans, subscriptions, invoices, usage quotas, coupons, webhook ledger, audit log.
-- Built from sql/ (the declarative source, one object per file); tests prove the two agree.

-- ==== sql/0010_schemas.sql
-- Tollgate's two schemas. Nothing of ours goes into public: the host app owns it.
create schema tollgate;
create schema tollgate_private;

comment on schema tollgate is
  E'Tollgate billing API: plans, subscriptions, invoices and usage that client apps read under row-level security, and the functions they call.';
comment on schema tollgate_private is
  E'Tollgate internals, never exposed over the API: provider ids, usage counters and ledger, coupons, webhook events, audit log, and the security-definer functions behind the API.';

-- Start from nothing and grant object by object. (A per-schema default privilege cannot take
-- away PUBLIC's built-in execute on functions, so every function file revokes it itself.)
revoke all on schema tollgate from public;
revoke all on schema tollgate_private from public;

grant usage on schema tollgate to anon, authenticated, service_role;
-- Only so that API roles can execute the few private functions granted to them by name.
grant usage on schema tollgate_private to authenticated, service_role;

-- ==== sql/0030_function_is_admin.sql
-- Policy helper: invoker, reads only the caller's own JWT.
create function tollgate_private.is_admin()
returns boolean
language sql
stable
security invoker
set search_path = ''
as $$
  select coalesce((auth.jwt() -> 'app_metadata' ->> 'role') = 'admin', false)
$$;

comment on function tollgate_private.is_admin() is
  E'True when the caller''s JWT carries app_metadata.role = admin. Admins read every Tollgate row.';

revoke all on function tollgate_private.is_admin() from public, anon, authenticated, service_role;

grant execute on function tollgate_private.is_admin() to authenticated, service_role;

-- ==== sql/0035_function_caller_id.sql
create function tollgate_private.caller_id()
returns uuid
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  -- auth.uid()'s own definition (supabase/auth), in plpgsql: auth.uid() is a SQL function with a
  -- pinned search_path, so Postgres plans it again in every transaction (about 40 us per call on
  -- the consume path). Policies keep using (select auth.uid()), which runs once per statement.
  return coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
  )::uuid;
end;
$$;

comment on function tollgate_private.caller_id() is
  E'The signed-in user''s id from the request''s JWT claims, exactly as auth.uid() reads it; null when nobody is signed in.';

revoke all on function tollgate_private.caller_id() from public, anon, authenticated, service_role;

-- ==== sql/0040_function_set_updated_at.sql
create function tollgate_private.tg__set_updated_at()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;

comment on function tollgate_private.tg__set_updated_at() is
  E'Trigger: stamps updated_at with the time of the change.';

revoke all on function tollgate_private.tg__set_updated_at() from public, anon, authenticated, service_role;

-- ==== sql/0050_table_settings.sql
-- One row of knobs the rules read; edited by admins in Studio.
create table tollgate_private.settings (
  id boolean primary key default true check (id),
  past_due_grace interval not null default interval '3 days' check (past_due_grace >= interval '0'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

comment on table tollgate_private.settings is
  E'Tollgate settings: exactly one row of knobs the billing rules read.';
comment on column tollgate_private.settings.id is E'Always true: makes this a single-row table.';
comment on column tollgate_private.settings.past_due_grace is
  E'How long a past_due subscription keeps its plan after its current period ends (default 3 days).';
comment on column tollgate_private.settings.created_at is E'When the row was created.';
comment on column tollgate_private.settings.updated_at is E'When the row was last changed.';

alter table tollgate_private.settings enable row level security;

-- Only Tollgate's own functions (running as the owner) read or write it.
create policy "Clients never read or write settings" on tollgate_private.settings
  as restrictive
  for all to anon, authenticated
  using (false)
  with check (false);

insert into tollgate_private.settings default values;
create trigger _100_set_updated_at
  before update on tollgate_private.settings
  for each row execute function tollgate_private.tg__set_updated_at();

-- ==== sql/0100_table_plans.sql
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

-- ==== sql/0110_table_plan_limits.sql
create table tollgate.plan_limits (
  plan_id text not null references tollgate.plans (id) on update cascade on delete cascade,
  metric text not null check (metric ~ '^[a-z][a-z0-9_]{0,62}$'),
  quota bigint not null check (quota >= -1),
  period text not null default 'month' check (period in ('hour', 'day', 'month', 'never')),
  carry_over boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (plan_id, metric),
  -- A never-resetting gauge (projects, seats) counts what exists; there is nothing to carry over.
  constraint plan_limits_no_carry_over_on_gauges check (not (carry_over and period = 'never'))
);

comment on table tollgate.plan_limits is
  E'How much of each metric a plan allows per period. A metric missing from a plan has quota 0 on it.';
comment on column tollgate.plan_limits.plan_id is E'The plan this limit belongs to.';
comment on column tollgate.plan_limits.metric is E'What is counted, e.g. api_calls, projects, storage_gb.';
comment on column tollgate.plan_limits.quota is E'How much may be used per period; -1 means unlimited.';
comment on column tollgate.plan_limits.period is
  E'When the count resets: hour, day, month (billing month of the subscription, calendar month on free) or never (a gauge).';
comment on column tollgate.plan_limits.carry_over is
  E'On an upgrade to this plan, the unused quota of the old plan is added to this period''s quota.';
comment on column tollgate.plan_limits.created_at is E'When the limit was created.';
comment on column tollgate.plan_limits.updated_at is E'When the limit was last changed.';

alter table tollgate.plan_limits enable row level security;

create policy "Anyone can read plan limits" on tollgate.plan_limits
  for select to anon
  using (true);
create policy "Signed-in users can read plan limits" on tollgate.plan_limits
  for select to authenticated
  using (true);

grant select on tollgate.plan_limits to anon, authenticated, service_role;

create trigger _100_set_updated_at
  before update on tollgate.plan_limits
  for each row execute function tollgate_private.tg__set_updated_at();

-- ==== sql/0120_table_subscriptions.sql
create table tollgate.subscriptions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  plan_id text not null references tollgate.plans (id) on update cascade,
  status text not null check (
    status in ('trialing', 'active', 'past_due', 'unpaid', 'canceled', 'incomplete', 'incomplete_expired', 'paused')
  ),
  provider text not null check (provider in ('stripe', 'razorpay', 'internal')),
  current_period_start timestamptz,
  current_period_end timestamptz,
  billing_cycle_anchor timestamptz,
  cancel_at_period_end boolean not null default false,
  canceled_at timestamptz,
  ended_at timestamptz,
  trial_end timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint subscriptions_period_order check (current_period_end > current_period_start)
);

-- At most one live subscription per user: the plan a user is on must never be ambiguous.
create unique index subscriptions_one_live_per_user
  on tollgate.subscriptions (user_id)
  where status in ('trialing', 'active', 'past_due', 'unpaid', 'paused');
create index subscriptions_user_id_idx on tollgate.subscriptions (user_id);
create index subscriptions_plan_id_idx on tollgate.subscriptions (plan_id);

comment on table tollgate.subscriptions is
  E'Each user''s subscriptions, written only by Tollgate (checkout, payment webhooks, maintenance). The live one (trialing, active, past_due, unpaid or paused; at most one per user) decides the user''s plan.';
comment on index tollgate.subscriptions_one_live_per_user is
  E'Enforces at most one live (trialing, active, past_due, unpaid or paused) subscription per user. incomplete ones (first payment not made yet) may exist beside it.';
comment on column tollgate.subscriptions.id is E'Subscription id.';
comment on column tollgate.subscriptions.user_id is E'The subscriber (auth.users).';
comment on column tollgate.subscriptions.plan_id is E'The plan subscribed to.';
comment on column tollgate.subscriptions.status is
  E'trialing, active, past_due (keeps the plan until current_period_end plus the grace period), unpaid, canceled, incomplete, incomplete_expired or paused (these fall back to free).';
comment on column tollgate.subscriptions.provider is E'Who bills it: stripe, razorpay or internal (granted by Tollgate itself).';
comment on column tollgate.subscriptions.current_period_start is E'Start of the period paid for.';
comment on column tollgate.subscriptions.current_period_end is E'End of the period paid for; renewals move it.';
comment on column tollgate.subscriptions.billing_cycle_anchor is
  E'The moment monthly usage periods are counted from (month boundaries fall on its day of month); defaults to the first current_period_start.';
comment on column tollgate.subscriptions.cancel_at_period_end is E'True when the subscription ends at current_period_end instead of renewing.';
comment on column tollgate.subscriptions.canceled_at is E'When cancellation was requested.';
comment on column tollgate.subscriptions.ended_at is E'When the subscription stopped, if it has.';
comment on column tollgate.subscriptions.trial_end is E'End of the free trial, if any.';
comment on column tollgate.subscriptions.created_at is E'When Tollgate first recorded the subscription.';
comment on column tollgate.subscriptions.updated_at is E'When the row was last changed.';

alter table tollgate.subscriptions enable row level security;

create policy "Users read their own subscriptions, admins read all" on tollgate.subscriptions
  for select to authenticated
  using (user_id = (select auth.uid()) or (select tollgate_private.is_admin()));

grant select on tollgate.subscriptions to authenticated, service_role;

create trigger _100_set_updated_at
  before update on tollgate.subscriptions
  for each row execute function tollgate_private.tg__set_updated_at();

-- ==== sql/0130_table_invoices.sql
create table tollgate.invoices (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  subscription_id uuid references tollgate.subscriptions (id) on delete set null,
  provider text not null check (provider in ('stripe', 'razorpay', 'internal')),
  number text,
  status text not null check (status in ('draft', 'open', 'paid', 'void', 'uncollectible')),
  currency text not null check (currency ~ '^[a-z]{3}$'),
  amount_due bigint not null default 0 check (amount_due >= 0),
  amount_paid bigint not null default 0 check (amount_paid >= 0),
  period_start timestamptz,
  period_end timestamptz,
  hosted_invoice_url text,
  invoice_pdf text,
  paid_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index invoices_user_id_created_at_idx on tollgate.invoices (user_id, created_at desc);
create index invoices_subscription_id_idx on tollgate.invoices (subscription_id);

comment on table tollgate.invoices is
  E'Invoices of each user, copied from the payment provider. Written only by Tollgate.';
comment on column tollgate.invoices.id is E'Invoice id.';
comment on column tollgate.invoices.user_id is E'Who the invoice is for (auth.users).';
comment on column tollgate.invoices.subscription_id is E'The subscription billed, if any.';
comment on column tollgate.invoices.provider is E'Who issued it: stripe, razorpay or internal.';
comment on column tollgate.invoices.number is E'The provider''s human-readable invoice number.';
comment on column tollgate.invoices.status is E'draft, open, paid, void or uncollectible.';
comment on column tollgate.invoices.currency is E'Lower-case ISO 4217 currency code.';
comment on column tollgate.invoices.amount_due is E'Amount due in minor units of currency.';
comment on column tollgate.invoices.amount_paid is E'Amount paid so far in minor units of currency.';
comment on column tollgate.invoices.period_start is E'Start of the period billed.';
comment on column tollgate.invoices.period_end is E'End of the period billed.';
comment on column tollgate.invoices.hosted_invoice_url is E'Page where the user can see and pay the invoice.';
comment on column tollgate.invoices.invoice_pdf is E'Link to the invoice PDF.';
comment on column tollgate.invoices.paid_at is E'When the invoice was paid.';
comment on column tollgate.invoices.created_at is E'When the invoice was created.';
comment on column tollgate.invoices.updated_at is E'When the row was last changed.';

alter table tollgate.invoices enable row level security;

create policy "Users read their own invoices, admins read all" on tollgate.invoices
  for select to authenticated
  using (user_id = (select auth.uid()) or (select tollgate_private.is_admin()));

grant select on tollgate.invoices to authenticated, service_role;

create trigger _100_set_updated_at
  before update on tollgate.invoices
  for each row execute function tollgate_private.tg__set_updated_at();

-- ==== sql/0200_table_customers.sql
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

-- ==== sql/0210_table_provider_refs.sql
create table tollgate_private.provider_refs (
  provider text not null check (provider in ('stripe', 'razorpay')),
  object_type text not null check (object_type in ('subscription', 'invoice', 'checkout_session', 'order', 'payment')),
  provider_id text not null check (length(provider_id) between 1 and 255),
  local_id uuid,
  user_id uuid references auth.users (id) on delete cascade,
  parent_id text,
  details jsonb not null default '{}'::jsonb,
  last_event_at timestamptz,
  last_event_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (provider, object_type, provider_id)
);

create index provider_refs_local_id_idx on tollgate_private.provider_refs (local_id);
create index provider_refs_user_id_idx on tollgate_private.provider_refs (user_id);
create index provider_refs_parent_id_idx on tollgate_private.provider_refs (provider, parent_id);

comment on table tollgate_private.provider_refs is
  E'Provider object ids (sub_..., in_..., order_...) and the Tollgate row each maps to, with the newest event applied to it so late events never overwrite newer state.';
comment on column tollgate_private.provider_refs.provider is E'stripe or razorpay.';
comment on column tollgate_private.provider_refs.object_type is E'subscription, invoice, checkout_session, order or payment.';
comment on column tollgate_private.provider_refs.provider_id is E'The provider''s id of the object.';
comment on column tollgate_private.provider_refs.local_id is E'The matching Tollgate row (subscriptions.id or invoices.id), when there is one.';
comment on column tollgate_private.provider_refs.user_id is E'The user the object belongs to.';
comment on column tollgate_private.provider_refs.parent_id is E'The provider id of the object this one belongs to, e.g. the subscription of an invoice.';
comment on column tollgate_private.provider_refs.details is E'What Tollgate must remember about the object, e.g. the plan, amount and checkout id of a Razorpay order.';
comment on column tollgate_private.provider_refs.last_event_at is E'Creation time of the newest provider event applied to this object (the watermark).';
comment on column tollgate_private.provider_refs.last_event_id is E'Id of that event; breaks ties between events created in the same second.';
comment on column tollgate_private.provider_refs.created_at is E'When the object was first seen.';
comment on column tollgate_private.provider_refs.updated_at is E'When the row was last changed.';

alter table tollgate_private.provider_refs enable row level security;

-- Only Tollgate's own functions (running as the owner) read or write it.
create policy "Clients never read or write provider refs" on tollgate_private.provider_refs
  as restrictive
  for all to anon, authenticated
  using (false)
  with check (false);

create trigger _100_set_updated_at
  before update on tollgate_private.provider_refs
  for each row execute function tollgate_private.tg__set_updated_at();

-- ==== sql/0220_table_usage_counters.sql
create table tollgate_private.usage_counters (
  user_id uuid not null references auth.users (id) on delete cascade,
  metric text not null,
  plan_id text not null references tollgate.plans (id) on update cascade on delete cascade,
  period text not null check (period in ('hour', 'day', 'month', 'never')),
  anchor timestamptz,
  period_start timestamptz not null,
  period_end timestamptz,
  used bigint not null default 0 check (used >= 0),
  quota bigint not null check (quota >= -1),
  base_quota bigint not null check (base_quota >= -1),
  valid_until timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (user_id, metric),
  constraint usage_counters_period_end_matches_period check ((period = 'never') = (period_end is null))
);

-- The scheduled maintenance finds what has to roll or be re-checked without scanning every counter.
create index usage_counters_period_end_idx on tollgate_private.usage_counters (period_end);
create index usage_counters_valid_until_idx on tollgate_private.usage_counters (valid_until);
create index usage_counters_plan_id_metric_idx on tollgate_private.usage_counters (plan_id, metric);

comment on table tollgate_private.usage_counters is
  E'The current period''s usage of each user and metric, with the quota that applies to it. consume_usage changes a row with one conditional update, so no race can overdraw it.';
comment on column tollgate_private.usage_counters.user_id is E'The user (auth.users).';
comment on column tollgate_private.usage_counters.metric is E'What is counted.';
comment on column tollgate_private.usage_counters.plan_id is E'The plan the quota was taken from.';
comment on column tollgate_private.usage_counters.period is E'hour, day, month or never, as on the plan limit.';
comment on column tollgate_private.usage_counters.anchor is E'Monthly periods start on this moment''s day of month (null = calendar months, UTC).';
comment on column tollgate_private.usage_counters.period_start is E'Start of the current period.';
comment on column tollgate_private.usage_counters.period_end is E'End of the current period (exclusive); null for never-resetting gauges.';
comment on column tollgate_private.usage_counters.used is E'Amount used in the current period.';
comment on column tollgate_private.usage_counters.quota is E'Amount allowed in the current period (plan quota plus any carried-over remainder); -1 = unlimited.';
comment on column tollgate_private.usage_counters.base_quota is E'The plan''s own quota for the metric, without carry-over; -1 = unlimited.';
comment on column tollgate_private.usage_counters.valid_until is
  E'When the plan behind this quota must be checked again (end of a past_due grace, of a cancelled period, of a one-off payment); null = until the subscription changes.';
comment on column tollgate_private.usage_counters.created_at is E'When the counter was created.';
comment on column tollgate_private.usage_counters.updated_at is E'When the counter last changed.';

alter table tollgate_private.usage_counters enable row level security;

-- Only Tollgate's own functions (running as the owner) read or write it.
create policy "Clients never read or write usage counters" on tollgate_private.usage_counters
  as restrictive
  for all to anon, authenticated
  using (false)
  with check (false);

-- ==== sql/0230_table_usage_events.sql
create table tollgate_private.usage_events (
  id bigint generated always as identity primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  metric text not null,
  amount bigint not null check (amount <> 0),
  allowed boolean not null,
  idempotency_key text check (length(idempotency_key) between 1 and 255),
  result jsonb,
  period_start timestamptz,
  created_at timestamptz not null default now()
);

-- The same idempotency key from the same user counts once, whatever the concurrency.
create unique index usage_events_user_id_idempotency_key_key
  on tollgate_private.usage_events (user_id, idempotency_key);
create index usage_events_user_id_created_at_idx on tollgate_private.usage_events (user_id, created_at);

comment on table tollgate_private.usage_events is
  E'Ledger of usage: one row per counted consume (positive amount) or release (negative), and one per keyed call refused, so a retried key returns its first answer.';
comment on index tollgate_private.usage_events_user_id_idempotency_key_key is
  E'One ledger row per user and idempotency key: a retried call is answered from it instead of counting again.';
comment on column tollgate_private.usage_events.id is E'Ledger row id.';
comment on column tollgate_private.usage_events.user_id is E'Whose usage.';
comment on column tollgate_private.usage_events.metric is E'What was counted.';
comment on column tollgate_private.usage_events.amount is E'Amount asked for: positive consumes, negative releases.';
comment on column tollgate_private.usage_events.allowed is E'Whether it was counted; a refused call changes no counter.';
comment on column tollgate_private.usage_events.idempotency_key is E'The caller''s idempotency key, if given.';
comment on column tollgate_private.usage_events.result is E'The answer returned to the caller, kept for keyed calls so a retry gets the same answer.';
comment on column tollgate_private.usage_events.period_start is E'Start of the counter period it was counted in.';
comment on column tollgate_private.usage_events.created_at is E'When it was recorded.';

alter table tollgate_private.usage_events enable row level security;

-- Only Tollgate's own functions (running as the owner) read or write it.
create policy "Clients never read or write usage events" on tollgate_private.usage_events
  as restrictive
  for all to anon, authenticated
  using (false)
  with check (false);

-- ==== sql/0240_table_coupons.sql
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
  constraint coupons_one_discount check ((percent_off is null) <> (amount_off is null)),
  constraint coupons_amount_has_currency check ((amount_off is null) = (currency is null)),
  constraint coupons_not_over_redeemed check (max_uses is null or times_redeemed <= max_uses),
  constraint coupons_window_order check (valid_until > valid_from)
);

comment on table tollgate_private.coupons is
  E'Discount codes accepted at checkout. times_redeemed never exceeds max_uses, whatever the concurrency.';
comment on column tollgate_private.coupons.code is E'The code users type, upper case, e.g. WELCOME20.';
comment on column tollgate_private.coupons.percent_off is E'Percentage discount (1-100); set this or amount_off.';
comment on column tollgate_private.coupons.amount_off is E'Fixed discount in minor units of currency; set this or percent_off.';
comment on column tollgate_private.coupons.currency is E'Currency of amount_off.';
comment on column tollgate_private.coupons.plan_ids is E'Plans the coupon applies to; null = every paid plan.';
comment on column tollgate_private.coupons.max_uses is E'How many redemptions are allowed in total; null = no limit.';
comment on column tollgate_private.coupons.times_redeemed is E'Redemptions so far (reserved at checkout).';
comment on column tollgate_private.coupons.valid_from is E'Not valid before this moment; null = from creation.';
comment on column tollgate_private.coupons.valid_until is E'Not valid from this moment on; null = no end.';
comment on column tollgate_private.coupons.active is E'Switch a coupon off without deleting it.';
comment on column tollgate_private.coupons.stripe_coupon_id is E'The matching Stripe coupon, created on first use.';
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

-- ==== sql/0250_table_coupon_redemptions.sql
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

-- ==== sql/0260_table_webhook_events.sql
create table tollgate_private.webhook_events (
  id bigint generated always as identity primary key,
  provider text not null check (provider in ('stripe', 'razorpay')),
  event_id text not null check (length(event_id) between 1 and 255),
  type text not null,
  api_version text,
  event_created_at timestamptz,
  payload jsonb not null,
  received_at timestamptz not null default now(),
  processed_at timestamptz,
  outcome text check (outcome in ('applied', 'stale', 'ignored', 'unlinked')),
  error text,
  attempts integer not null default 1 check (attempts >= 1),
  -- A provider event is recorded and applied once, however often it is delivered.
  constraint webhook_events_provider_event_id_key unique (provider, event_id)
);

create index webhook_events_type_idx on tollgate_private.webhook_events (provider, type);
create index webhook_events_unprocessed_idx on tollgate_private.webhook_events (received_at) where processed_at is null;

comment on table tollgate_private.webhook_events is
  E'Every verified webhook event received, once per provider event id, with its raw payload and what was done with it.';
comment on column tollgate_private.webhook_events.id is E'Ledger row id.';
comment on column tollgate_private.webhook_events.provider is E'stripe or razorpay.';
comment on column tollgate_private.webhook_events.event_id is E'The provider''s event id (evt_... for Stripe, x-razorpay-event-id for Razorpay).';
comment on column tollgate_private.webhook_events.type is E'Event type, e.g. invoice.paid.';
comment on column tollgate_private.webhook_events.api_version is E'Provider API version the payload was rendered in.';
comment on column tollgate_private.webhook_events.event_created_at is E'When the provider created the event.';
comment on column tollgate_private.webhook_events.payload is E'The verified event body.';
comment on column tollgate_private.webhook_events.received_at is E'When Tollgate first received it.';
comment on column tollgate_private.webhook_events.processed_at is E'When it was applied (or deliberately not applied).';
comment on column tollgate_private.webhook_events.outcome is E'applied; stale (older than what was already applied to the same object); ignored (a type or state Tollgate does not act on); unlinked (no Tollgate user or plan matches it: see error).';
comment on column tollgate_private.webhook_events.error is E'The last error applying it, if any; the provider retries.';
comment on column tollgate_private.webhook_events.attempts is E'How many deliveries of this event arrived.';

alter table tollgate_private.webhook_events enable row level security;

-- Only Tollgate's own functions (running as the owner) read or write it.
create policy "Clients never read or write webhook events" on tollgate_private.webhook_events
  as restrictive
  for all to anon, authenticated
  using (false)
  with check (false);

-- ==== sql/0270_table_audit_log.sql
create table tollgate_private.audit_log (
  id bigint generated always as identity primary key,
  occurred_at timestamptz not null default now(),
  table_name text not null,
  record_id uuid not null,
  user_id uuid,
  action text not null check (action in ('insert', 'update', 'delete')),
  old_values jsonb,
  new_values jsonb,
  actor_user_id uuid,
  actor_role text not null,
  reason text
);

create index audit_log_record_id_idx on tollgate_private.audit_log (record_id, occurred_at);
create index audit_log_user_id_idx on tollgate_private.audit_log (user_id, occurred_at);

comment on table tollgate_private.audit_log is
  E'Who changed what and when: every new subscription and every change of a subscription''s plan or status, written by trigger.';
comment on column tollgate_private.audit_log.id is E'Audit row id.';
comment on column tollgate_private.audit_log.occurred_at is E'When the change happened (transaction time).';
comment on column tollgate_private.audit_log.table_name is E'Table changed, e.g. subscriptions.';
comment on column tollgate_private.audit_log.record_id is E'Id of the changed row.';
comment on column tollgate_private.audit_log.user_id is E'The user the row belongs to.';
comment on column tollgate_private.audit_log.action is E'insert, update or delete.';
comment on column tollgate_private.audit_log.old_values is E'The audited fields before the change (null on insert).';
comment on column tollgate_private.audit_log.new_values is E'The audited fields after the change (null on delete).';
comment on column tollgate_private.audit_log.actor_user_id is E'The signed-in user who caused it, if any (auth.uid()).';
comment on column tollgate_private.audit_log.actor_role is E'The role that caused it: the JWT role (authenticated, service_role) or the database role (postgres, a Studio admin).';
comment on column tollgate_private.audit_log.reason is E'Why, when Tollgate knows: e.g. stripe:evt_123, maintenance.';

alter table tollgate_private.audit_log enable row level security;

-- Only Tollgate's own functions (running as the owner) read or write it.
create policy "Clients never read or write audit log" on tollgate_private.audit_log
  as restrictive
  for all to anon, authenticated
  using (false)
  with check (false);

-- ==== sql/0300_function_period_window.sql
create function tollgate_private.period_window(
  period text,
  anchor timestamptz,
  as_of timestamptz,
  out period_start timestamptz,
  out period_end timestamptz
)
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
  v_at timestamp := period_window.as_of at time zone 'UTC';
  v_anchor timestamp := coalesce(period_window.anchor, timestamptz '2000-01-01 00:00:00+00') at time zone 'UTC';
  v_months integer;
begin
  -- All arithmetic is in UTC wall time, so the session's TimeZone (and its DST jumps) never moves a boundary.
  case period_window.period
    when 'hour' then
      period_start := date_trunc('hour', v_at) at time zone 'UTC';
      period_end := (date_trunc('hour', v_at) + interval '1 hour') at time zone 'UTC';
    when 'day' then
      period_start := date_trunc('day', v_at) at time zone 'UTC';
      period_end := (date_trunc('day', v_at) + interval '1 day') at time zone 'UTC';
    when 'month' then
      -- Count whole months from the anchor (anchor + k months, never month after month, so Jan 31
      -- gives Feb 29 then Mar 31, as Stripe's billing_cycle_anchor does).
      v_months := (extract(year from v_at)::integer - extract(year from v_anchor)::integer) * 12
        + extract(month from v_at)::integer - extract(month from v_anchor)::integer;
      if v_anchor + make_interval(months => v_months) > v_at then
        v_months := v_months - 1;
      end if;
      period_start := (v_anchor + make_interval(months => v_months)) at time zone 'UTC';
      period_end := (v_anchor + make_interval(months => v_months + 1)) at time zone 'UTC';
    when 'never' then
      period_start := period_window.as_of;
      period_end := null;
    else
      raise exception 'Unknown period %', period_window.period
        using errcode = '22023', hint = 'Use hour, day, month or never.';
  end case;
end;
$$;

comment on function tollgate_private.period_window(text, timestamptz, timestamptz) is
  E'The usage period (start inclusive, end exclusive) containing as_of: UTC hours and days, months counted from anchor (calendar months when anchor is null), or an open-ended never period.';

revoke all on function tollgate_private.period_window(text, timestamptz, timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0310_function_entitlement.sql
create function tollgate_private.entitlement(
  user_id uuid,
  as_of timestamptz,
  out plan_id text,
  out subscription_id uuid,
  out anchor timestamptz,
  out valid_until timestamptz
)
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_sub tollgate.subscriptions;
  v_grace interval;
begin
  plan_id := 'free';

  select s.* into v_sub
  from tollgate.subscriptions s
  where s.user_id = entitlement.user_id
    and s.status in ('trialing', 'active', 'past_due', 'unpaid', 'paused');

  if v_sub.id is null or v_sub.status not in ('trialing', 'active', 'past_due') then
    return;
  end if;

  select st.past_due_grace into v_grace from tollgate_private.settings st;
  v_grace := coalesce(v_grace, interval '3 days');

  -- Stripe renews by itself and tells us; a past_due one, or one paid once per interval
  -- (razorpay, internal), keeps its plan until the period it paid for ends, plus the grace.
  if v_sub.status = 'past_due' or v_sub.provider <> 'stripe' then
    valid_until := (v_sub.current_period_end at time zone 'UTC' + v_grace) at time zone 'UTC';
  end if;
  if v_sub.cancel_at_period_end then
    valid_until := least(valid_until, v_sub.current_period_end);
  end if;
  if v_sub.status = 'trialing' and v_sub.provider <> 'stripe' then
    valid_until := least(valid_until, v_sub.trial_end);
  end if;

  if valid_until <= entitlement.as_of then
    valid_until := null;
    return;
  end if;

  plan_id := v_sub.plan_id;
  subscription_id := v_sub.id;
  anchor := coalesce(v_sub.billing_cycle_anchor, v_sub.current_period_start, v_sub.created_at);
end;
$$;

comment on function tollgate_private.entitlement(uuid, timestamptz) is
  E'The plan a user is entitled to at as_of: their live subscription''s plan (past_due until period end plus grace), else free; with the month anchor for usage periods and the moment this must be checked again.';

revoke all on function tollgate_private.entitlement(uuid, timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0320_function_next_counter_state.sql
create function tollgate_private.next_counter_state(
  cur tollgate_private.usage_counters,
  user_id uuid,
  metric text,
  plan_id text,
  base_quota bigint,
  period text,
  carry_over boolean,
  anchor timestamptz,
  valid_until timestamptz,
  as_of timestamptz
)
returns tollgate_private.usage_counters
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v tollgate_private.usage_counters;
  v_window record;
  v_upgrade boolean;
  v_bonus bigint;
begin
  if (cur).user_id is null then
    v_window := tollgate_private.period_window(next_counter_state.period, next_counter_state.anchor, next_counter_state.as_of);
    v.user_id := next_counter_state.user_id;
    v.metric := next_counter_state.metric;
    v.plan_id := next_counter_state.plan_id;
    v.period := next_counter_state.period;
    v.anchor := next_counter_state.anchor;
    v.period_start := v_window.period_start;
    v.period_end := v_window.period_end;
    v.used := 0;
    v.quota := next_counter_state.base_quota;
    v.base_quota := next_counter_state.base_quota;
    v.valid_until := next_counter_state.valid_until;
    v.created_at := now();
    v.updated_at := now();
    return v;
  end if;

  v := cur;

  -- ROLL: an ended period is closed under the rules it was counted with; the next one starts
  -- from zero and without carried-over quota. Never earlier than the old end (anchor changes).
  if v.period_end is not null and v.period_end <= next_counter_state.as_of then
    v_window := tollgate_private.period_window(v.period, v.anchor, next_counter_state.as_of);
    v.period_start := greatest(v_window.period_start, v.period_end);
    v.period_end := v_window.period_end;
    v.used := 0;
    v.quota := v.base_quota;
  end if;

  -- FOLLOW THE PLAN
  if v.period <> next_counter_state.period then
    -- The metric resets on another schedule now: start a fresh period of the new kind.
    v_window := tollgate_private.period_window(next_counter_state.period, next_counter_state.anchor, next_counter_state.as_of);
    v.period_start := v_window.period_start;
    v.period_end := v_window.period_end;
    v.used := 0;
    v.quota := next_counter_state.base_quota;
  elsif v.plan_id is distinct from next_counter_state.plan_id then
    v_upgrade := (next_counter_state.base_quota = -1 and v.base_quota <> -1)
      or (v.base_quota <> -1 and next_counter_state.base_quota > v.base_quota);
    if v.period = 'never' then
      -- A gauge counts what exists (projects, storage): the count survives any plan change.
      v.quota := next_counter_state.base_quota;
    else
      v_window := tollgate_private.period_window(next_counter_state.period, next_counter_state.anchor, next_counter_state.as_of);
      if v_upgrade and next_counter_state.carry_over and v.quota <> -1 then
        -- Carry-over: new quota for this period = new base + (old quota - old used).
        v.quota := case
          when next_counter_state.base_quota = -1 then -1
          else next_counter_state.base_quota + greatest(v.quota - v.used, 0)
        end;
        v.used := 0;
      elsif v_upgrade then
        v.quota := next_counter_state.base_quota;
        if v_window.period_start <> v.period_start then
          v.used := 0;
        end if;
      else
        -- Downgrade (or same size): usage already counted stays counted.
        v.quota := next_counter_state.base_quota;
      end if;
      v.period_start := v_window.period_start;
      v.period_end := v_window.period_end;
    end if;
  elsif v.base_quota <> next_counter_state.base_quota then
    -- Same plan, its limit was edited: any carried-over amount stays on top of the new base.
    v_bonus := case when v.quota = -1 or v.base_quota = -1 then 0 else v.quota - v.base_quota end;
    v.quota := case
      when next_counter_state.base_quota = -1 then -1
      else next_counter_state.base_quota + v_bonus
    end;
  end if;

  v.plan_id := next_counter_state.plan_id;
  v.period := next_counter_state.period;
  v.base_quota := next_counter_state.base_quota;
  -- A new anchor shapes the next period; the running one keeps its bounds.
  v.anchor := next_counter_state.anchor;
  v.valid_until := next_counter_state.valid_until;
  v.updated_at := now();
  return v;
end;
$$;

comment on function tollgate_private.next_counter_state(tollgate_private.usage_counters, uuid, text, text, bigint, text, boolean, timestamptz, timestamptz, timestamptz) is
  E'Pure rule: the state a usage counter must have at as_of for the plan the user is on: rolls an ended period, and on a plan change carries unused quota over (upgrade of a carry_over metric) or keeps usage counted (downgrade). Used by writers and by the usage view alike.';

revoke all on function tollgate_private.next_counter_state(tollgate_private.usage_counters, uuid, text, text, bigint, text, boolean, timestamptz, timestamptz, timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0330_function_refresh_usage_counter.sql
create function tollgate_private.refresh_usage_counter(
  user_id uuid,
  metric text,
  as_of timestamptz,
  plan_id text,
  anchor timestamptz,
  valid_until timestamptz,
  baseline_plan_id text
)
returns tollgate_private.usage_counters
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_cur tollgate_private.usage_counters;
  v_limit tollgate.plan_limits;
  v_baseline tollgate.plan_limits;
  v_init tollgate_private.usage_counters;
  v_next tollgate_private.usage_counters;
begin
  select l.* into v_limit
  from tollgate.plan_limits l
  where l.plan_id = refresh_usage_counter.plan_id and l.metric = refresh_usage_counter.metric;

  select c.* into v_cur
  from tollgate_private.usage_counters c
  where c.user_id = refresh_usage_counter.user_id and c.metric = refresh_usage_counter.metric
  for update;

  if v_cur.user_id is null then
    if v_limit.plan_id is null then
      -- Not on the plan and never counted: nothing to keep.
      return null;
    end if;
    -- No counter yet: start from what the previous plan gave, so carry-over also works for a
    -- user who never consumed before upgrading.
    if refresh_usage_counter.baseline_plan_id is distinct from refresh_usage_counter.plan_id then
      select l.* into v_baseline
      from tollgate.plan_limits l
      where l.plan_id = refresh_usage_counter.baseline_plan_id and l.metric = refresh_usage_counter.metric;
    end if;
    if v_baseline.plan_id is not null then
      v_init := tollgate_private.next_counter_state(
        null, refresh_usage_counter.user_id, refresh_usage_counter.metric, v_baseline.plan_id,
        v_baseline.quota, v_baseline.period, v_baseline.carry_over, null, null, refresh_usage_counter.as_of);
    else
      v_init := tollgate_private.next_counter_state(
        null, refresh_usage_counter.user_id, refresh_usage_counter.metric, v_limit.plan_id,
        v_limit.quota, v_limit.period, v_limit.carry_over, refresh_usage_counter.anchor,
        refresh_usage_counter.valid_until, refresh_usage_counter.as_of);
    end if;
    -- Two first calls at once: one inserts, the other waits for it and then locks the row it made.
    insert into tollgate_private.usage_counters
    select (v_init).*
    on conflict on constraint usage_counters_pkey do nothing;

    select c.* into v_cur
    from tollgate_private.usage_counters c
    where c.user_id = refresh_usage_counter.user_id and c.metric = refresh_usage_counter.metric
    for update;
  end if;

  v_next := tollgate_private.next_counter_state(
    v_cur, refresh_usage_counter.user_id, refresh_usage_counter.metric, refresh_usage_counter.plan_id,
    coalesce(v_limit.quota, 0), coalesce(v_limit.period, v_cur.period), coalesce(v_limit.carry_over, false),
    refresh_usage_counter.anchor, refresh_usage_counter.valid_until, refresh_usage_counter.as_of);

  if (v_next.plan_id, v_next.period, v_next.anchor, v_next.period_start, v_next.period_end,
      v_next.used, v_next.quota, v_next.base_quota, v_next.valid_until)
    is distinct from (v_cur.plan_id, v_cur.period, v_cur.anchor, v_cur.period_start, v_cur.period_end,
      v_cur.used, v_cur.quota, v_cur.base_quota, v_cur.valid_until) then
    update tollgate_private.usage_counters c
    set plan_id = v_next.plan_id,
        period = v_next.period,
        anchor = v_next.anchor,
        period_start = v_next.period_start,
        period_end = v_next.period_end,
        used = v_next.used,
        quota = v_next.quota,
        base_quota = v_next.base_quota,
        valid_until = v_next.valid_until,
        updated_at = v_next.updated_at
    where c.user_id = refresh_usage_counter.user_id and c.metric = refresh_usage_counter.metric
    returning c.* into v_next;
  end if;
  return v_next;
end;
$$;

comment on function tollgate_private.refresh_usage_counter(uuid, text, timestamptz, text, timestamptz, timestamptz, text) is
  E'Locks one usage counter (creating it if missing) and brings it to the state next_counter_state gives for the plan passed in. Callers pass the entitlement; baseline_plan_id is the plan a missing counter would have been on.';

revoke all on function tollgate_private.refresh_usage_counter(uuid, text, timestamptz, text, timestamptz, timestamptz, text) from public, anon, authenticated, service_role;

-- ==== sql/0340_function_sync_usage_counters.sql
create function tollgate_private.sync_usage_counters(user_id uuid, as_of timestamptz)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_entitlement record;
  v_baseline text;
  v_metric text;
begin
  select e.* into v_entitlement from tollgate_private.entitlement(sync_usage_counters.user_id, sync_usage_counters.as_of) e;

  -- The plan the counters were on before this change (free for a user who never had any).
  select c.plan_id into v_baseline
  from tollgate_private.usage_counters c
  where c.user_id = sync_usage_counters.user_id
  limit 1;

  -- Metric order: every writer that locks several counters of a user locks them in this order.
  for v_metric in
    select l.metric from tollgate.plan_limits l where l.plan_id = v_entitlement.plan_id
    union
    select c.metric from tollgate_private.usage_counters c where c.user_id = sync_usage_counters.user_id
    order by 1
  loop
    perform tollgate_private.refresh_usage_counter(
      sync_usage_counters.user_id, v_metric, sync_usage_counters.as_of, v_entitlement.plan_id,
      v_entitlement.anchor, v_entitlement.valid_until, coalesce(v_baseline, 'free'));
  end loop;
end;
$$;

comment on function tollgate_private.sync_usage_counters(uuid, timestamptz) is
  E'Makes every usage counter of a user follow the plan they are entitled to at as_of (called when their subscription changes), creating counters for the plan''s metrics.';

revoke all on function tollgate_private.sync_usage_counters(uuid, timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0350_function_usage_answer.sql
create function tollgate_private.usage_answer(allowed boolean, metric text, counter tollgate_private.usage_counters)
returns jsonb
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  -- plpgsql, not sql: a SQL function with a pinned search_path is planned again on every call.
  return jsonb_build_object(
    'allowed', usage_answer.allowed,
    'metric', usage_answer.metric,
    'used', coalesce((usage_answer.counter).used, 0),
    'quota', coalesce((usage_answer.counter).quota, 0),
    'remaining', case
      when (usage_answer.counter).quota = -1 then null
      else greatest(coalesce((usage_answer.counter).quota, 0) - coalesce((usage_answer.counter).used, 0), 0)
    end,
    'period_end', (usage_answer.counter).period_end
  );
end;
$$;

comment on function tollgate_private.usage_answer(boolean, text, tollgate_private.usage_counters) is
  E'The answer consume_usage and release_usage return: {allowed, metric, used, quota, remaining, period_end}; remaining is null when unlimited.';

revoke all on function tollgate_private.usage_answer(boolean, text, tollgate_private.usage_counters) from public, anon, authenticated, service_role;

-- ==== sql/0360_function_apply_usage.sql
create function tollgate_private.apply_usage(user_id uuid, metric text, delta bigint, as_of timestamptz)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_row tollgate_private.usage_counters;
  v_entitlement record;
  v_baseline text;
begin
  if apply_usage.delta > 0 then
    -- FAST PATH: one conditional update. The row lock and the re-check of the WHERE clause on the
    -- newest row version make it atomic: no concurrency can take used past quota.
    update tollgate_private.usage_counters c
    set used = c.used + apply_usage.delta,
        updated_at = now()
    where c.user_id = apply_usage.user_id
      and c.metric = apply_usage.metric
      and (c.period_end is null or c.period_end > apply_usage.as_of)
      and (c.valid_until is null or c.valid_until > apply_usage.as_of)
      and (c.quota = -1 or c.used + apply_usage.delta <= c.quota)
    returning c.* into v_row;
    if found then
      return tollgate_private.usage_answer(true, apply_usage.metric, v_row);
    end if;

    -- REFUSAL without a lock, so a user hammering an exhausted quota does not queue on its row.
    select c.* into v_row
    from tollgate_private.usage_counters c
    where c.user_id = apply_usage.user_id and c.metric = apply_usage.metric;
    if v_row.user_id is not null
      and (v_row.period_end is null or v_row.period_end > apply_usage.as_of)
      and (v_row.valid_until is null or v_row.valid_until > apply_usage.as_of)
      and v_row.quota <> -1 and v_row.used + apply_usage.delta > v_row.quota then
      return tollgate_private.usage_answer(false, apply_usage.metric, v_row);
    end if;
  else
    -- Releases only apply to gauges (never-resetting metrics), and never below zero.
    update tollgate_private.usage_counters c
    set used = greatest(c.used + apply_usage.delta, 0),
        updated_at = now()
    where c.user_id = apply_usage.user_id
      and c.metric = apply_usage.metric
      and c.period = 'never'
      and (c.valid_until is null or c.valid_until > apply_usage.as_of)
    returning c.* into v_row;
    if found then
      return tollgate_private.usage_answer(true, apply_usage.metric, v_row);
    end if;
  end if;

  -- SLOW PATH: the counter is missing, its period has ended, or its plan must be checked again.
  if not exists (select from auth.users u where u.id = apply_usage.user_id) then
    raise exception 'Unknown user %', apply_usage.user_id
      using errcode = 'NOUSR', hint = 'The user must exist in auth.users.';
  end if;
  if not exists (select from tollgate.plan_limits l where l.metric = apply_usage.metric)
    and not exists (
      select from tollgate_private.usage_counters c
      where c.user_id = apply_usage.user_id and c.metric = apply_usage.metric
    ) then
    raise exception 'Unknown metric %', apply_usage.metric
      using errcode = 'NOMET', hint = 'Metrics are the ones named in tollgate.plan_limits.';
  end if;

  select e.* into v_entitlement from tollgate_private.entitlement(apply_usage.user_id, apply_usage.as_of) e;
  select c.plan_id into v_baseline
  from tollgate_private.usage_counters c
  where c.user_id = apply_usage.user_id
  limit 1;

  v_row := tollgate_private.refresh_usage_counter(
    apply_usage.user_id, apply_usage.metric, apply_usage.as_of, v_entitlement.plan_id,
    v_entitlement.anchor, v_entitlement.valid_until, coalesce(v_baseline, v_entitlement.plan_id));

  if v_row.user_id is null then
    -- The metric exists, but not on this user's plan: quota 0.
    return tollgate_private.usage_answer(apply_usage.delta < 0, apply_usage.metric, null);
  end if;

  if apply_usage.delta < 0 then
    if v_row.period <> 'never' then
      raise exception 'Only never-resetting metrics can be released; % resets every %', apply_usage.metric, v_row.period
        using errcode = 'GAUGE', hint = 'Usage of a resetting metric is not given back.';
    end if;
    update tollgate_private.usage_counters c
    set used = greatest(c.used + apply_usage.delta, 0),
        updated_at = now()
    where c.user_id = apply_usage.user_id and c.metric = apply_usage.metric
    returning c.* into v_row;
    return tollgate_private.usage_answer(true, apply_usage.metric, v_row);
  end if;

  -- The row is locked by refresh_usage_counter: decide on the fresh state.
  if v_row.quota <> -1 and v_row.used + apply_usage.delta > v_row.quota then
    return tollgate_private.usage_answer(false, apply_usage.metric, v_row);
  end if;
  update tollgate_private.usage_counters c
  set used = c.used + apply_usage.delta,
      updated_at = now()
  where c.user_id = apply_usage.user_id and c.metric = apply_usage.metric
  returning c.* into v_row;
  return tollgate_private.usage_answer(true, apply_usage.metric, v_row);
end;
$$;

comment on function tollgate_private.apply_usage(uuid, text, bigint, timestamptz) is
  E'Counts delta (positive: consume, refused past the quota; negative: release of a gauge, floored at zero) on a user''s counter at as_of, rolling the period or following a plan change first when due. Writes no ledger row: record_usage does.';

revoke all on function tollgate_private.apply_usage(uuid, text, bigint, timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0370_function_record_usage.sql
create function tollgate_private.record_usage(
  user_id uuid,
  metric text,
  delta bigint,
  idempotency_key text,
  as_of timestamptz
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_result jsonb;
  v_event tollgate_private.usage_events;
  v_constraint text;
begin
  if record_usage.user_id is null then
    raise exception 'No user given' using errcode = 'NOUSR', hint = 'Sign in, or pass a user id.';
  end if;
  if record_usage.metric is null or record_usage.metric !~ '^[a-z][a-z0-9_]{0,62}$' then
    raise exception 'Unknown metric %', coalesce(record_usage.metric, '(null)')
      using errcode = 'NOMET', hint = 'Metrics are the ones named in tollgate.plan_limits.';
  end if;
  if record_usage.idempotency_key is not null and length(record_usage.idempotency_key) not between 1 and 255 then
    raise exception 'The idempotency key must be 1 to 255 characters'
      using errcode = 'BADKY';
  end if;

  if record_usage.idempotency_key is null then
    v_result := tollgate_private.apply_usage(record_usage.user_id, record_usage.metric, record_usage.delta, record_usage.as_of);
    if (v_result ->> 'allowed')::boolean then
      insert into tollgate_private.usage_events (user_id, metric, amount, allowed, period_start)
      values (record_usage.user_id, record_usage.metric, record_usage.delta, true, (
        select c.period_start from tollgate_private.usage_counters c
        where c.user_id = record_usage.user_id and c.metric = record_usage.metric));
    end if;
    return v_result;
  end if;

  -- A key seen before answers from the ledger and counts nothing.
  select e.* into v_event
  from tollgate_private.usage_events e
  where e.user_id = record_usage.user_id and e.idempotency_key = record_usage.idempotency_key;

  if v_event.id is null then
    begin
      v_result := tollgate_private.apply_usage(record_usage.user_id, record_usage.metric, record_usage.delta, record_usage.as_of);
      -- The unique key makes a concurrent call with the same key wait here for us, then fail.
      insert into tollgate_private.usage_events (user_id, metric, amount, allowed, idempotency_key, result, period_start)
      values (record_usage.user_id, record_usage.metric, record_usage.delta, (v_result ->> 'allowed')::boolean,
        record_usage.idempotency_key, v_result, (
          select c.period_start from tollgate_private.usage_counters c
          where c.user_id = record_usage.user_id and c.metric = record_usage.metric));
      return v_result;
    exception when unique_violation then
      get stacked diagnostics v_constraint = constraint_name;
      if v_constraint is distinct from 'usage_events_user_id_idempotency_key_key' then
        raise;
      end if;
      -- Another call with this key committed first; leaving this block undid our count.
      select e.* into v_event
      from tollgate_private.usage_events e
      where e.user_id = record_usage.user_id and e.idempotency_key = record_usage.idempotency_key;
    end;
  end if;

  if v_event.metric <> record_usage.metric or v_event.amount <> record_usage.delta then
    raise exception 'This idempotency key was used for a different request'
      using errcode = 'IDKEY',
            detail = format('first used for %s %s', v_event.metric, v_event.amount),
            hint = 'Use a new key for a new request.';
  end if;
  return v_event.result;
end;
$$;

comment on function tollgate_private.record_usage(uuid, text, bigint, text, timestamptz) is
  E'Counts a usage change and writes its ledger row in the same transaction; the same idempotency key from the same user counts once, at any concurrency, and returns the first answer.';

revoke all on function tollgate_private.record_usage(uuid, text, bigint, text, timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0380_function_consume_usage.sql
create function tollgate_private.consume_usage(
  user_id uuid,
  metric text,
  amount bigint,
  idempotency_key text,
  as_of timestamptz
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if consume_usage.amount is null or consume_usage.amount <= 0 then
    raise exception 'amount must be a whole number greater than 0'
      using errcode = 'INAMT', detail = format('got %s', coalesce(consume_usage.amount::text, 'null'));
  end if;
  return tollgate_private.record_usage(
    consume_usage.user_id, consume_usage.metric, consume_usage.amount, consume_usage.idempotency_key,
    consume_usage.as_of);
end;
$$;

comment on function tollgate_private.consume_usage(uuid, text, bigint, text, timestamptz) is
  E'Consumes amount of a metric for a user at as_of: {allowed, metric, used, quota, remaining, period_end}. Refused calls count nothing; a repeated idempotency key counts once. For the service role, tests and triggers; clients call tollgate.consume_usage.';

revoke all on function tollgate_private.consume_usage(uuid, text, bigint, text, timestamptz) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.consume_usage(uuid, text, bigint, text, timestamptz) to service_role;

-- ==== sql/0390_function_release_usage.sql
create function tollgate_private.release_usage(
  user_id uuid,
  metric text,
  amount bigint,
  idempotency_key text,
  as_of timestamptz
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if release_usage.amount is null or release_usage.amount <= 0 then
    raise exception 'amount must be a whole number greater than 0'
      using errcode = 'INAMT', detail = format('got %s', coalesce(release_usage.amount::text, 'null'));
  end if;
  return tollgate_private.record_usage(
    release_usage.user_id, release_usage.metric, -release_usage.amount, release_usage.idempotency_key,
    release_usage.as_of);
end;
$$;

comment on function tollgate_private.release_usage(uuid, text, bigint, text, timestamptz) is
  E'Gives back amount of a never-resetting metric (a gauge such as projects or storage) when the thing counted is gone; never goes below zero. Service role and triggers only.';

revoke all on function tollgate_private.release_usage(uuid, text, bigint, text, timestamptz) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.release_usage(uuid, text, bigint, text, timestamptz) to service_role;

-- ==== sql/0400_function_consume_usage_of_caller.sql
create function tollgate_private.consume_usage_of_caller(metric text, amount bigint, idempotency_key text)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := tollgate_private.caller_id();
begin
  if v_user_id is null then
    raise exception 'Sign in to consume usage' using errcode = 'NOJWT';
  end if;
  -- The caller never chooses the time: a client must not move its own period.
  return tollgate_private.consume_usage(
    v_user_id, consume_usage_of_caller.metric, consume_usage_of_caller.amount,
    consume_usage_of_caller.idempotency_key, now());
end;
$$;

comment on function tollgate_private.consume_usage_of_caller(text, bigint, text) is
  E'consume_usage for the signed-in caller (auth.uid()) at the current time; what tollgate.consume_usage runs.';

revoke all on function tollgate_private.consume_usage_of_caller(text, bigint, text) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.consume_usage_of_caller(text, bigint, text) to authenticated;

-- ==== sql/0410_function_usage_rows.sql
create function tollgate_private.usage_rows(for_user_id uuid, as_of timestamptz)
returns table (
  user_id uuid,
  metric text,
  period text,
  period_start timestamptz,
  period_end timestamptz,
  used bigint,
  quota bigint,
  remaining bigint
)
language sql
stable
security invoker
set search_path = ''
as $$
  -- Computed with the same rule the writers use, so a read shows a lazy reset or a plan change
  -- before any write has happened.
  select usage_rows.for_user_id, l.metric, n.period, n.period_start, n.period_end, n.used, n.quota,
    case when n.quota = -1 then null else greatest(n.quota - n.used, 0) end
  from tollgate_private.entitlement(usage_rows.for_user_id, usage_rows.as_of) e
  join tollgate.plan_limits l on l.plan_id = e.plan_id
  left join tollgate_private.usage_counters c
    on c.user_id = usage_rows.for_user_id and c.metric = l.metric
  cross join lateral tollgate_private.next_counter_state(
    c, usage_rows.for_user_id, l.metric, e.plan_id, l.quota, l.period, l.carry_over, e.anchor,
    e.valid_until, usage_rows.as_of) n
  order by l.metric
$$;

comment on function tollgate_private.usage_rows(uuid, timestamptz) is
  E'One row per metric of the plan a user is on at as_of: period bounds, used, quota (-1 = unlimited) and remaining (null when unlimited).';

revoke all on function tollgate_private.usage_rows(uuid, timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0420_function_usage_of_caller.sql
create function tollgate_private.usage_of_caller()
returns table (
  user_id uuid,
  metric text,
  period text,
  period_start timestamptz,
  period_end timestamptz,
  used bigint,
  quota bigint,
  remaining bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := tollgate_private.caller_id();
begin
  -- Decided once per call, not per row of auth.users.
  if tollgate_private.is_admin()
    or nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role' = 'service_role' then
    return query
      select r.* from auth.users u cross join lateral tollgate_private.usage_rows(u.id, now()) r;
  elsif v_user_id is not null then
    return query select r.* from tollgate_private.usage_rows(v_user_id, now()) r;
  end if;
end;
$$;

comment on function tollgate_private.usage_of_caller() is
  E'Rows of the tollgate.usage view: the caller''s own usage now; every user''s for admins and the service role.';

revoke all on function tollgate_private.usage_of_caller() from public, anon, authenticated, service_role;

grant execute on function tollgate_private.usage_of_caller() to authenticated, service_role;

-- ==== sql/0430_view_usage.sql
create view tollgate.usage
with (security_invoker = true)
as
select u.user_id, u.metric, u.period, u.period_start, u.period_end, u.used, u.quota, u.remaining
from tollgate_private.usage_of_caller() u;

comment on view tollgate.usage is
  E'Your usage now: one row per metric of your current plan (admins see every user).';
comment on column tollgate.usage.user_id is E'Whose usage.';
comment on column tollgate.usage.metric is E'What is counted.';
comment on column tollgate.usage.period is E'hour, day, month or never.';
comment on column tollgate.usage.period_start is E'Start of the current period.';
comment on column tollgate.usage.period_end is E'When the count resets; null for never.';
comment on column tollgate.usage.used is E'Used in the current period.';
comment on column tollgate.usage.quota is E'Allowed in the current period; -1 = unlimited.';
comment on column tollgate.usage.remaining is E'Still available; null when unlimited.';

grant select on tollgate.usage to authenticated, service_role;

-- ==== sql/0500_function_tg_subscriptions__audit.sql
create function tollgate_private.tg_subscriptions__audit()
returns trigger
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and (old.plan_id, old.status) is not distinct from (new.plan_id, new.status) then
    return null;
  end if;
  insert into tollgate_private.audit_log (
    table_name, record_id, user_id, action, old_values, new_values, actor_user_id, actor_role, reason
  )
  values (
    'subscriptions',
    case when tg_op = 'DELETE' then old.id else new.id end,
    case when tg_op = 'DELETE' then old.user_id else new.user_id end,
    lower(tg_op),
    case when tg_op <> 'INSERT' then jsonb_build_object('plan_id', old.plan_id, 'status', old.status) end,
    case when tg_op <> 'DELETE' then jsonb_build_object('plan_id', new.plan_id, 'status', new.status) end,
    auth.uid(),
    coalesce(nullif(auth.role(), ''), session_user::text),
    nullif(current_setting('tollgate.audit_reason', true), '')
  );
  return null;
end;
$$;

comment on function tollgate_private.tg_subscriptions__audit() is
  E'Trigger: writes an audit_log row for every new, deleted, or re-planned or re-statused subscription (who, old, new, when).';

revoke all on function tollgate_private.tg_subscriptions__audit() from public, anon, authenticated, service_role;

create trigger _200_audit
  after insert or update or delete on tollgate.subscriptions
  for each row execute function tollgate_private.tg_subscriptions__audit();

-- ==== sql/0510_function_tg_subscriptions__sync_usage.sql
create function tollgate_private.tg_subscriptions__sync_usage()
returns trigger
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE'
    and (old.user_id, old.plan_id, old.status, old.provider, old.current_period_start, old.current_period_end,
         old.billing_cycle_anchor, old.cancel_at_period_end, old.trial_end, old.created_at)
      is not distinct from
        (new.user_id, new.plan_id, new.status, new.provider, new.current_period_start, new.current_period_end,
         new.billing_cycle_anchor, new.cancel_at_period_end, new.trial_end, new.created_at) then
    return null;
  end if;
  -- Quotas follow the plan at once, in the same transaction as the subscription change.
  -- A user being deleted (the cascade from auth.users) has nothing left to sync.
  if tg_op in ('UPDATE', 'DELETE') and exists (select from auth.users u where u.id = old.user_id) then
    perform tollgate_private.sync_usage_counters(old.user_id, now());
  end if;
  if tg_op = 'INSERT' or (tg_op = 'UPDATE' and new.user_id <> old.user_id) then
    perform tollgate_private.sync_usage_counters(new.user_id, now());
  end if;
  return null;
end;
$$;

comment on function tollgate_private.tg_subscriptions__sync_usage() is
  E'Trigger: when a subscription''s plan, status or period changes, moves the user''s usage counters to the plan they are now entitled to (carry-over on upgrade, usage kept on downgrade).';

revoke all on function tollgate_private.tg_subscriptions__sync_usage() from public, anon, authenticated, service_role;

create trigger _500_sync_usage
  after insert or update or delete on tollgate.subscriptions
  for each row execute function tollgate_private.tg_subscriptions__sync_usage();

-- ==== sql/0520_function_tg_plan_limits__sync_usage.sql
create function tollgate_private.tg_plan_limits__sync_usage()
returns trigger
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  -- Mark the counters on this plan and metric for a re-check; the next consume (or the scheduled
  -- maintenance) applies the new limit. Reads already show it.
  update tollgate_private.usage_counters c
  set valid_until = '-infinity'
  where c.plan_id = old.plan_id and c.metric = old.metric;
  return null;
end;
$$;

comment on function tollgate_private.tg_plan_limits__sync_usage() is
  E'Trigger: when an admin edits or removes a plan limit, makes the counters on it pick up the change at their next use.';

revoke all on function tollgate_private.tg_plan_limits__sync_usage() from public, anon, authenticated, service_role;

create trigger _500_sync_usage
  after update or delete on tollgate.plan_limits
  for each row execute function tollgate_private.tg_plan_limits__sync_usage();

-- ==== sql/0530_function_tg__enforce_row_quota.sql
create function tollgate_private.tg__enforce_row_quota()
returns trigger
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_metric text := tg_argv[0];
  v_owner_column text := coalesce(tg_argv[1], 'user_id');
  v_new_owner uuid;
  v_old_owner uuid;
  v_result jsonb;
begin
  if v_metric is null then
    raise exception 'tg__enforce_row_quota needs the metric as its first argument'
      using errcode = 'TGCFG',
            hint = 'create trigger ... execute function tollgate_private.tg__enforce_row_quota(''projects'', ''user_id'')';
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    v_new_owner := (to_jsonb(new) ->> v_owner_column)::uuid;
  end if;
  if tg_op in ('UPDATE', 'DELETE') then
    v_old_owner := (to_jsonb(old) ->> v_owner_column)::uuid;
  end if;
  if tg_op = 'UPDATE' and v_new_owner is not distinct from v_old_owner then
    return null;
  end if;
  if tg_op <> 'DELETE' and v_new_owner is null then
    raise exception 'A row counted against metric % needs an owner in column %', v_metric, v_owner_column
      using errcode = 'NOOWN';
  end if;

  -- Give back first (an owner change moves one unit from the old owner to the new one). Only
  -- gauges give back: a metric that resets counts creations, not rows that exist.
  if v_old_owner is not null and exists (
    select from tollgate_private.usage_counters c
    where c.user_id = v_old_owner and c.metric = v_metric and c.period = 'never'
  ) then
    perform tollgate_private.release_usage(v_old_owner, v_metric, 1, null, now());
  end if;

  if v_new_owner is not null then
    v_result := tollgate_private.consume_usage(v_new_owner, v_metric, 1, null, now());
    if not (v_result ->> 'allowed')::boolean then
      raise exception 'Quota for % is used up (% of %)', v_metric, v_result ->> 'used', v_result ->> 'quota'
        using errcode = 'QUOTA',
              detail = v_result::text,
              hint = 'Upgrade the plan or remove something first.';
    end if;
  end if;
  return null;
end;
$$;

comment on function tollgate_private.tg__enforce_row_quota() is
  E'Trigger for an app''s own table: counts each new row against its owner''s quota of a metric, refuses the insert past the limit (QUOTA), and gives the unit back on delete. Arguments: metric, owner column (default user_id). Attach AFTER INSERT OR DELETE OR UPDATE OF <owner column>, FOR EACH ROW.';

revoke all on function tollgate_private.tg__enforce_row_quota() from public, anon, authenticated, service_role;

-- ==== sql/0600_function_run_maintenance.sql
create function tollgate_private.run_maintenance(as_of timestamptz default now())
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_ended integer;
  v_lapsed integer;
  v_expired integer;
  v_counters integer := 0;
  v_released integer := 0;
  v_reservation record;
  v_counter record;
  v_entitlement record;
  v_caller_reason text := current_setting('tollgate.audit_reason', true);
begin
  perform set_config('tollgate.audit_reason', 'maintenance', true);

  -- Subscriptions set to cancel at period end whose period is over.
  with ended as (
    update tollgate.subscriptions s
    set status = 'canceled',
        ended_at = s.current_period_end,
        canceled_at = coalesce(s.canceled_at, s.current_period_end)
    where s.cancel_at_period_end
      and s.current_period_end <= run_maintenance.as_of
      and s.status in ('trialing', 'active', 'past_due')
    returning 1
  )
  select count(*) into v_ended from ended;

  -- One-off payments (razorpay, internal) whose period or trial is over fall due; Stripe tells us itself.
  with lapsed as (
    update tollgate.subscriptions s
    set status = 'past_due'
    where s.provider <> 'stripe'
      and s.status in ('trialing', 'active')
      and (s.current_period_end <= run_maintenance.as_of
        or (s.status = 'trialing' and s.trial_end <= run_maintenance.as_of))
    returning 1
  )
  select count(*) into v_lapsed from lapsed;

  -- ... and end when the grace period is over without a new payment.
  with expired as (
    update tollgate.subscriptions s
    set status = 'canceled',
        ended_at = run_maintenance.as_of
    from tollgate_private.settings st
    where s.provider <> 'stripe'
      and s.status = 'past_due'
      and (s.current_period_end at time zone 'UTC' + st.past_due_grace) at time zone 'UTC' <= run_maintenance.as_of
    returning 1
  )
  select count(*) into v_expired from expired;

  -- Scheduled reset: roll ended periods and re-check plans whose entitlement ran out. A counter
  -- in use right now is skipped: its own next consume rolls it lazily.
  for v_counter in
    select c.user_id, c.metric, c.plan_id
    from tollgate_private.usage_counters c
    where c.period_end <= run_maintenance.as_of or c.valid_until <= run_maintenance.as_of
    order by c.user_id, c.metric
    for update skip locked
  loop
    select e.* into v_entitlement from tollgate_private.entitlement(v_counter.user_id, run_maintenance.as_of) e;
    perform tollgate_private.refresh_usage_counter(
      v_counter.user_id, v_counter.metric, run_maintenance.as_of, v_entitlement.plan_id,
      v_entitlement.anchor, v_entitlement.valid_until, v_counter.plan_id);
    v_counters := v_counters + 1;
  end loop;

  -- Coupon uses held by checkouts abandoned for two days go back (Stripe sessions expire in one).
  for v_reservation in
    select r.checkout_ref
    from tollgate_private.coupon_redemptions r
    where r.status = 'reserved' and r.updated_at <= run_maintenance.as_of - interval '2 days'
    for update skip locked
  loop
    perform tollgate_private.settle_coupon(v_reservation.checkout_ref, false);
    v_released := v_released + 1;
  end loop;

  perform set_config('tollgate.audit_reason', coalesce(v_caller_reason, ''), true);
  return jsonb_build_object(
    'as_of', run_maintenance.as_of,
    'subscriptions_ended', v_ended,
    'subscriptions_lapsed', v_lapsed,
    'subscriptions_expired', v_expired,
    'counters_refreshed', v_counters,
    'coupon_reservations_released', v_released
  );
end;
$$;

comment on function tollgate_private.run_maintenance(timestamptz) is
  E'Scheduled upkeep at as_of: ends subscriptions whose cancel_at_period_end has passed, lapses and expires one-off (razorpay, internal) subscriptions, rolls ended usage periods, and gives back coupon uses held by abandoned checkouts. Safe to run at any time, any number of times. pg_cron runs it every 5 minutes.';

revoke all on function tollgate_private.run_maintenance(timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0610_function_schedule_maintenance.sql
create function tollgate_private.schedule_maintenance()
returns text
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  if not exists (select from pg_catalog.pg_extension where extname = 'pg_cron') then
    return 'pg_cron is not installed: run tollgate_private.run_maintenance(now()) from another scheduler';
  end if;
  -- Dynamic SQL: the cron schema only exists where pg_cron does.
  execute 'select cron.schedule($1, $2, $3)'
    using 'tollgate-maintenance', '*/5 * * * *', 'select tollgate_private.run_maintenance(now())';
  return 'scheduled tollgate-maintenance every 5 minutes';
end;
$$;

comment on function tollgate_private.schedule_maintenance() is
  E'Schedules run_maintenance every 5 minutes with pg_cron (same job name, so running it again only updates the job). Run it after enabling pg_cron.';

revoke all on function tollgate_private.schedule_maintenance() from public, anon, authenticated, service_role;

-- ==== sql/0700_function_api_consume_usage.sql
create function tollgate.consume_usage(metric text, amount bigint default 1, idempotency_key text default null)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  -- plpgsql keeps its plan between calls; a SQL function with a pinned search_path would not.
  return tollgate_private.consume_usage_of_caller(consume_usage.metric, consume_usage.amount, consume_usage.idempotency_key);
end;
$$;

comment on function tollgate.consume_usage(text, bigint, text) is
  E'Counts amount (> 0) of a metric against the signed-in user''s quota: returns {allowed, metric, used, quota, remaining, period_end}. Atomic (no overdraw at any concurrency); a refused call counts nothing; the same idempotency_key twice counts once and returns the first answer.';

revoke all on function tollgate.consume_usage(text, bigint, text) from public, anon, authenticated, service_role;

grant execute on function tollgate.consume_usage(text, bigint, text) to authenticated;

-- ==== sql/0710_function_api_service_role_consume_usage.sql
create function tollgate.service_role_consume_usage(
  user_id uuid,
  metric text,
  amount bigint default 1,
  idempotency_key text default null
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  -- plpgsql keeps its plan between calls; a SQL function with a pinned search_path would not.
  return tollgate_private.consume_usage(
    service_role_consume_usage.user_id, service_role_consume_usage.metric, service_role_consume_usage.amount,
    service_role_consume_usage.idempotency_key, now());
end;
$$;

comment on function tollgate.service_role_consume_usage(uuid, text, bigint, text) is
  E'consume_usage for any user, for trusted servers holding the service role key.';

revoke all on function tollgate.service_role_consume_usage(uuid, text, bigint, text) from public, anon, authenticated, service_role;

grant execute on function tollgate.service_role_consume_usage(uuid, text, bigint, text) to service_role;

-- ==== sql/0720_function_api_service_role_release_usage.sql
create function tollgate.service_role_release_usage(
  user_id uuid,
  metric text,
  amount bigint default 1,
  idempotency_key text default null
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  -- plpgsql keeps its plan between calls; a SQL function with a pinned search_path would not.
  return tollgate_private.release_usage(
    service_role_release_usage.user_id, service_role_release_usage.metric, service_role_release_usage.amount,
    service_role_release_usage.idempotency_key, now());
end;
$$;

comment on function tollgate.service_role_release_usage(uuid, text, bigint, text) is
  E'Gives back amount of a never-resetting metric (projects, storage) for a user when what was counted is gone; never below zero; errors with GAUGE for metrics that reset. Service role only.';

revoke all on function tollgate.service_role_release_usage(uuid, text, bigint, text) from public, anon, authenticated, service_role;

grant execute on function tollgate.service_role_release_usage(uuid, text, bigint, text) to service_role;

-- ==== sql/0800_function_unix_time.sql
create function tollgate_private.unix_time(value jsonb)
returns timestamptz
language sql
immutable
security invoker
set search_path = ''
as $$
  select case when jsonb_typeof(unix_time.value) = 'number' then to_timestamp((unix_time.value)::text::double precision) end
$$;

comment on function tollgate_private.unix_time(jsonb) is
  E'A provider timestamp (seconds since 1970 as a JSON number) as timestamptz; null for JSON null or anything else.';

revoke all on function tollgate_private.unix_time(jsonb) from public, anon, authenticated, service_role;

-- ==== sql/0801_function_provider_id.sql
create function tollgate_private.provider_id(value jsonb)
returns text
language sql
immutable
security invoker
set search_path = ''
as $$
  -- Stripe's expandable fields are either an id string or the expanded object.
  select case jsonb_typeof(provider_id.value)
    when 'string' then provider_id.value #>> '{}'
    when 'object' then provider_id.value ->> 'id'
  end
$$;

comment on function tollgate_private.provider_id(jsonb) is
  E'The id in a provider field that is either an id string or an expanded object with an id.';

revoke all on function tollgate_private.provider_id(jsonb) from public, anon, authenticated, service_role;

-- ==== sql/0802_function_uuid_or_null.sql
create function tollgate_private.uuid_or_null(value text)
returns uuid
language sql
immutable
security invoker
set search_path = ''
as $$
  select case
    when uuid_or_null.value ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
      then uuid_or_null.value::uuid
  end
$$;

comment on function tollgate_private.uuid_or_null(text) is
  E'The text as a uuid, or null when it is not one (provider metadata is untrusted text).';

revoke all on function tollgate_private.uuid_or_null(text) from public, anon, authenticated, service_role;

-- ==== sql/0810_function_reserve_coupon.sql
create function tollgate_private.reserve_coupon(
  code text,
  user_id uuid,
  plan_id text,
  provider text,
  checkout_ref text,
  as_of timestamptz
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_code text := upper(btrim(reserve_coupon.code));
  v_coupon tollgate_private.coupons;
  v_redemption tollgate_private.coupon_redemptions;
begin
  -- The row lock serialises reservations of one coupon: max_uses can never be overrun.
  select c.* into v_coupon from tollgate_private.coupons c where c.code = v_code for update;

  if v_coupon.code is null or not v_coupon.active then
    raise exception 'Coupon % does not exist', coalesce(v_code, '')
      using errcode = 'CPINV', hint = 'Check the code.';
  end if;
  if v_coupon.valid_from > reserve_coupon.as_of or v_coupon.valid_until <= reserve_coupon.as_of then
    raise exception 'Coupon % is not valid now', v_code
      using errcode = 'CPEXP',
            detail = format('valid from %s until %s', coalesce(v_coupon.valid_from::text, '-'), coalesce(v_coupon.valid_until::text, '-'));
  end if;
  if v_coupon.plan_ids is not null and not (reserve_coupon.plan_id = any (v_coupon.plan_ids)) then
    raise exception 'Coupon % does not apply to plan %', v_code, reserve_coupon.plan_id
      using errcode = 'CPPLN', detail = format('applies to %s', array_to_string(v_coupon.plan_ids, ', '));
  end if;

  select r.* into v_redemption
  from tollgate_private.coupon_redemptions r
  where r.coupon_code = v_code and r.user_id = reserve_coupon.user_id;

  if v_redemption.status = 'redeemed' then
    raise exception 'Coupon % was already used by this account', v_code using errcode = 'CPUSD';
  end if;

  if v_redemption.status is distinct from 'reserved' then
    -- A new use (or a use again after a released reservation) takes one of max_uses.
    if v_coupon.max_uses is not null and v_coupon.times_redeemed >= v_coupon.max_uses then
      raise exception 'Coupon % has been used up', v_code
        using errcode = 'CPMAX', detail = format('%s of %s uses taken', v_coupon.times_redeemed, v_coupon.max_uses);
    end if;
    update tollgate_private.coupons c set times_redeemed = c.times_redeemed + 1 where c.code = v_code;
  end if;

  -- An abandoned checkout's reservation is handed to the new checkout, not counted twice.
  insert into tollgate_private.coupon_redemptions (coupon_code, user_id, plan_id, provider, checkout_ref, checkout_refs, status)
  values (v_code, reserve_coupon.user_id, reserve_coupon.plan_id, reserve_coupon.provider, reserve_coupon.checkout_ref,
    array[reserve_coupon.checkout_ref], 'reserved')
  on conflict on constraint coupon_redemptions_coupon_code_user_id_key do update
    set plan_id = excluded.plan_id,
        provider = excluded.provider,
        checkout_ref = excluded.checkout_ref,
        -- Paying an older checkout that carried the same reservation still redeems it.
        checkout_refs = case when tollgate_private.coupon_redemptions.status = 'reserved'
          then tollgate_private.coupon_redemptions.checkout_refs || excluded.checkout_ref
          else array[excluded.checkout_ref] end,
        status = 'reserved'
  returning * into v_redemption;

  return jsonb_build_object(
    'code', v_coupon.code,
    'percent_off', v_coupon.percent_off,
    'amount_off', v_coupon.amount_off,
    'currency', v_coupon.currency,
    'stripe_coupon_id', v_coupon.stripe_coupon_id,
    'redemption_id', v_redemption.id
  );
end;
$$;

comment on function tollgate_private.reserve_coupon(text, uuid, text, text, text, timestamptz) is
  E'Reserves one use of a coupon for a checkout, atomically: refuses unknown (CPINV), out-of-window (CPEXP), wrong-plan (CPPLN), used-up (CPMAX) and already-used (CPUSD) coupons. Returns the discount.';

revoke all on function tollgate_private.reserve_coupon(text, uuid, text, text, text, timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0811_function_settle_coupon.sql
create function tollgate_private.settle_coupon(checkout_ref text, paid boolean)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_redemption tollgate_private.coupon_redemptions;
begin
  if settle_coupon.paid then
    -- Any checkout that carried the reservation redeems it, even one given back meanwhile.
    select r.* into v_redemption
    from tollgate_private.coupon_redemptions r
    where r.checkout_refs @> array[settle_coupon.checkout_ref] and r.status in ('reserved', 'released')
    for update;
    if v_redemption.id is null then
      return;
    end if;
    update tollgate_private.coupon_redemptions r set status = 'redeemed' where r.id = v_redemption.id;
    if v_redemption.status = 'released' then
      -- Its use was given back: count it again (never past max_uses, which the check forbids).
      update tollgate_private.coupons c
      set times_redeemed = case when c.max_uses is null then c.times_redeemed + 1 else least(c.times_redeemed + 1, c.max_uses) end
      where c.code = v_redemption.coupon_code;
    end if;
  else
    -- Only the checkout now holding the reservation can give it back.
    select r.* into v_redemption
    from tollgate_private.coupon_redemptions r
    where r.checkout_ref = settle_coupon.checkout_ref and r.status = 'reserved'
    for update;
    if v_redemption.id is null then
      return;
    end if;
    -- The checkout failed or expired: give the use back.
    update tollgate_private.coupon_redemptions r set status = 'released' where r.id = v_redemption.id;
    update tollgate_private.coupons c
    set times_redeemed = greatest(c.times_redeemed - 1, 0)
    where c.code = v_redemption.coupon_code;
  end if;
end;
$$;

comment on function tollgate_private.settle_coupon(text, boolean) is
  E'Settles the coupon reservation of a checkout: redeemed when paid, released (its use given back) when the checkout failed or expired. Does nothing when there is no open reservation.';

revoke all on function tollgate_private.settle_coupon(text, boolean) from public, anon, authenticated, service_role;

-- ==== sql/0820_function_link_customer.sql
create function tollgate_private.link_customer(user_id uuid, provider text, provider_customer_id text)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_owner uuid;
begin
  if link_customer.provider_customer_id is null then
    return;
  end if;
  select c.user_id into v_owner
  from tollgate_private.customers c
  where c.provider = link_customer.provider and c.provider_customer_id = link_customer.provider_customer_id;
  if v_owner is not null and v_owner <> link_customer.user_id then
    raise exception 'Customer % belongs to another user', link_customer.provider_customer_id
      using errcode = 'CUSTM', hint = 'A provider customer is never shared between users.';
  end if;
  -- The first customer recorded for a user stays theirs; checkout reuses it.
  insert into tollgate_private.customers (user_id, provider, provider_customer_id)
  values (link_customer.user_id, link_customer.provider, link_customer.provider_customer_id)
  on conflict do nothing;
end;
$$;

comment on function tollgate_private.link_customer(uuid, text, text) is
  E'Records a provider customer as the user''s (the first one stays); refuses (CUSTM) a customer already linked to another user.';

revoke all on function tollgate_private.link_customer(uuid, text, text) from public, anon, authenticated, service_role;

-- ==== sql/0821_function_live_subscription_of.sql
create function tollgate_private.live_subscription_of(user_id uuid)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select to_jsonb(s) || jsonb_build_object(
    'provider_subscription_id', (
      select r.provider_id from tollgate_private.provider_refs r
      where r.object_type = 'subscription' and r.local_id = s.id
      limit 1),
    'provider_customer_id', (
      select c.provider_customer_id from tollgate_private.customers c
      where c.user_id = s.user_id and c.provider = s.provider)
  )
  from tollgate.subscriptions s
  where s.user_id = live_subscription_of.user_id
    and s.status in ('trialing', 'active', 'past_due', 'unpaid', 'paused')
$$;

comment on function tollgate_private.live_subscription_of(uuid) is
  E'The user''s live subscription as JSON with its provider subscription and customer ids; null when they have none.';

revoke all on function tollgate_private.live_subscription_of(uuid) from public, anon, authenticated, service_role;

-- ==== sql/0822_function_prepare_checkout.sql
create function tollgate_private.prepare_checkout(
  user_id uuid,
  plan_id text,
  provider text,
  coupon_code text,
  as_of timestamptz
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_plan tollgate.plans;
  v_live tollgate.subscriptions;
  v_checkout_id uuid := gen_random_uuid();
  v_coupon jsonb;
  v_amount bigint;
begin
  if not exists (select from auth.users u where u.id = prepare_checkout.user_id) then
    raise exception 'Unknown user %', prepare_checkout.user_id using errcode = 'NOUSR';
  end if;
  select p.* into v_plan from tollgate.plans p where p.id = prepare_checkout.plan_id;
  if v_plan.id is null then
    raise exception 'Unknown plan %', prepare_checkout.plan_id using errcode = 'NOPLN';
  end if;
  if not v_plan.active then
    raise exception 'Plan % cannot be bought any more', v_plan.id using errcode = 'PLINA';
  end if;

  select s.* into v_live
  from tollgate.subscriptions s
  where s.user_id = prepare_checkout.user_id and s.status in ('trialing', 'active', 'past_due', 'unpaid', 'paused');

  if v_plan.amount = 0 then
    -- A free plan needs no payment: the caller ends the live subscription, if any.
    return jsonb_build_object(
      'kind', 'free',
      'plan', to_jsonb(v_plan),
      'live', tollgate_private.live_subscription_of(prepare_checkout.user_id));
  end if;

  if prepare_checkout.provider = 'stripe' and v_plan.stripe_price_id is null then
    raise exception 'Plan % has no Stripe price', v_plan.id
      using errcode = 'PLINA', hint = 'Set tollgate.plans.stripe_price_id.';
  end if;

  if v_live.id is not null then
    if v_live.plan_id = v_plan.id and v_live.provider = 'stripe' then
      raise exception 'You are already on plan %', v_plan.id using errcode = 'SAMEP';
    end if;
    -- Razorpay is paid one interval at a time: paying again renews (same plan) or switches.
    if not (v_live.provider = 'razorpay' and prepare_checkout.provider = 'razorpay') then
      raise exception 'You already have a % subscription to plan %', v_live.provider, v_live.plan_id
        using errcode = 'HASUB',
              hint = case when v_live.provider = 'stripe'
                then 'Use /billing/change-plan to switch plans.'
                else 'Cancel it first, or pay with the same provider.' end;
    end if;
  end if;

  v_amount := v_plan.amount;
  if prepare_checkout.coupon_code is not null then
    v_coupon := tollgate_private.reserve_coupon(
      prepare_checkout.coupon_code, prepare_checkout.user_id, v_plan.id, prepare_checkout.provider,
      v_checkout_id::text, prepare_checkout.as_of);
    if v_coupon ->> 'amount_off' is not null and v_coupon ->> 'currency' <> v_plan.currency then
      raise exception 'Coupon % is in %, the plan in %', v_coupon ->> 'code', v_coupon ->> 'currency', v_plan.currency
        using errcode = 'CPCUR';
    end if;
    v_amount := greatest(
      v_plan.amount
        - coalesce((v_coupon ->> 'amount_off')::bigint, 0)
        - coalesce(round(v_plan.amount * (v_coupon ->> 'percent_off')::numeric / 100)::bigint, 0),
      0);
  end if;

  return jsonb_build_object(
    'kind', case when v_live.provider = 'razorpay' and v_live.plan_id = v_plan.id then 'renewal' else 'new' end,
    'checkout_id', v_checkout_id,
    'plan', to_jsonb(v_plan),
    'amount', v_amount,
    'currency', v_plan.currency,
    'coupon', v_coupon,
    'customer_id', (
      select c.provider_customer_id from tollgate_private.customers c
      where c.user_id = prepare_checkout.user_id and c.provider = prepare_checkout.provider)
  );
end;
$$;

comment on function tollgate_private.prepare_checkout(uuid, text, text, text, timestamptz) is
  E'First step of a checkout: checks the plan (NOPLN, PLINA) and the user''s live subscription (SAMEP, HASUB), reserves the coupon if one is given, and returns the checkout id, plan, amount after discount and the user''s provider customer. kind = free means no payment is needed.';

revoke all on function tollgate_private.prepare_checkout(uuid, text, text, text, timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0823_function_record_checkout.sql
create function tollgate_private.record_checkout(
  user_id uuid,
  provider text,
  provider_checkout_id text,
  checkout_id uuid,
  plan_id text,
  amount bigint,
  currency text,
  extra jsonb default '{}'::jsonb
)
returns void
language sql
volatile
security invoker
set search_path = ''
as $$
  insert into tollgate_private.provider_refs (provider, object_type, provider_id, user_id, details)
  values (
    record_checkout.provider,
    case record_checkout.provider when 'stripe' then 'checkout_session' else 'order' end,
    record_checkout.provider_checkout_id,
    record_checkout.user_id,
    jsonb_build_object(
      'checkout_id', record_checkout.checkout_id,
      'plan_id', record_checkout.plan_id,
      'amount', record_checkout.amount,
      'currency', record_checkout.currency))
  on conflict do nothing;

  select tollgate_private.link_customer(record_checkout.user_id, record_checkout.provider, record_checkout.extra ->> 'customer_id')
  where record_checkout.extra ->> 'customer_id' is not null;

  -- The Stripe coupon made for a Tollgate coupon on its first use is reused from then on.
  update tollgate_private.coupons c
  set stripe_coupon_id = record_checkout.extra ->> 'stripe_coupon_id'
  where c.code = record_checkout.extra ->> 'coupon_code'
    and c.stripe_coupon_id is null
    and record_checkout.extra ->> 'stripe_coupon_id' is not null
$$;

comment on function tollgate_private.record_checkout(uuid, text, text, uuid, text, bigint, text, jsonb) is
  E'Remembers a checkout created at the provider (Stripe session or Razorpay order): whose it is, the plan and the amount it must be paid with; extra.customer_id links the provider customer used, extra.stripe_coupon_id the Stripe coupon made for extra.coupon_code.';

revoke all on function tollgate_private.record_checkout(uuid, text, text, uuid, text, bigint, text, jsonb) from public, anon, authenticated, service_role;

-- ==== sql/0824_function_prepare_plan_change.sql
create function tollgate_private.prepare_plan_change(user_id uuid, plan_id text)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_plan tollgate.plans;
  v_live jsonb := tollgate_private.live_subscription_of(prepare_plan_change.user_id);
begin
  if v_live is null then
    raise exception 'You have no live subscription to change' using errcode = 'NOSUB',
      hint = 'Use /billing/checkout to subscribe.';
  end if;
  select p.* into v_plan from tollgate.plans p where p.id = prepare_plan_change.plan_id;
  if v_plan.id is null then
    raise exception 'Unknown plan %', prepare_plan_change.plan_id using errcode = 'NOPLN';
  end if;
  if not v_plan.active or v_plan.amount = 0 then
    raise exception 'Plan % cannot be switched to', v_plan.id using errcode = 'PLINA',
      hint = case when v_plan.amount = 0 then 'Use /billing/checkout with the free plan, or /billing/cancel.' end;
  end if;
  if v_live ->> 'plan_id' = v_plan.id then
    raise exception 'You are already on plan %', v_plan.id using errcode = 'SAMEP';
  end if;
  if v_live ->> 'provider' <> 'stripe' then
    raise exception 'A % subscription cannot change plan in place', v_live ->> 'provider' using errcode = 'NOCHG',
      hint = 'Check out the new plan instead.';
  end if;
  if v_plan.stripe_price_id is null then
    raise exception 'Plan % has no Stripe price', v_plan.id using errcode = 'PLINA';
  end if;
  return jsonb_build_object('plan', to_jsonb(v_plan), 'live', v_live);
end;
$$;

comment on function tollgate_private.prepare_plan_change(uuid, text) is
  E'Checks a plan change of the user''s live Stripe subscription (NOSUB, NOPLN, PLINA, SAMEP, NOCHG) and returns the new plan and the live subscription with its Stripe ids.';

revoke all on function tollgate_private.prepare_plan_change(uuid, text) from public, anon, authenticated, service_role;

-- ==== sql/0830_function_advance_watermark.sql
create function tollgate_private.advance_watermark(
  provider text,
  object_type text,
  provider_id text,
  event_at timestamptz,
  event_id text
)
returns boolean
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_ref tollgate_private.provider_refs;
begin
  insert into tollgate_private.provider_refs (provider, object_type, provider_id)
  values (advance_watermark.provider, advance_watermark.object_type, advance_watermark.provider_id)
  on conflict do nothing;

  -- Locked until commit: two deliveries about one object are applied one after the other.
  select r.* into v_ref
  from tollgate_private.provider_refs r
  where r.provider = advance_watermark.provider
    and r.object_type = advance_watermark.object_type
    and r.provider_id = advance_watermark.provider_id
  for update;

  -- Late events never overwrite newer state: order by creation time, then event id.
  if v_ref.last_event_at is not null
    and (v_ref.last_event_at, v_ref.last_event_id) >= (advance_watermark.event_at, advance_watermark.event_id) then
    return false;
  end if;

  update tollgate_private.provider_refs r
  set last_event_at = advance_watermark.event_at,
      last_event_id = advance_watermark.event_id
  where r.provider = advance_watermark.provider
    and r.object_type = advance_watermark.object_type
    and r.provider_id = advance_watermark.provider_id;
  return true;
end;
$$;

comment on function tollgate_private.advance_watermark(text, text, text, timestamptz, text) is
  E'Locks a provider object''s row and moves its watermark to this event when the event is newer (created time, then event id); false means the event is older than what was applied and must not be.';

revoke all on function tollgate_private.advance_watermark(text, text, text, timestamptz, text) from public, anon, authenticated, service_role;

-- ==== sql/0831_function_apply_stripe_subscription.sql
create function tollgate_private.apply_stripe_subscription(
  subscription jsonb,
  event_at timestamptz,
  event_id text,
  user_hint uuid
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_stripe_id text := apply_stripe_subscription.subscription ->> 'id';
  v_customer text := tollgate_private.provider_id(apply_stripe_subscription.subscription -> 'customer');
  v_item jsonb := apply_stripe_subscription.subscription #> '{items,data,0}';
  v_user_id uuid;
  v_plan_id text;
  v_price text;
  v_status text := apply_stripe_subscription.subscription ->> 'status';
  v_period_start timestamptz;
  v_period_end timestamptz;
  v_cancel_at timestamptz;
  v_local_id uuid;
  v_other uuid;
begin
  if v_stripe_id is null or v_stripe_id !~ '^sub_' or v_status is null then
    raise exception 'Not a Stripe subscription object' using errcode = 'BADEV';
  end if;

  v_user_id := coalesce(
    apply_stripe_subscription.user_hint,
    tollgate_private.uuid_or_null(apply_stripe_subscription.subscription #>> '{metadata,user_id}'),
    (select c.user_id from tollgate_private.customers c where c.provider = 'stripe' and c.provider_customer_id = v_customer),
    (select r.user_id from tollgate_private.provider_refs r
     where r.provider = 'stripe' and r.object_type = 'subscription' and r.provider_id = v_stripe_id));
  if v_user_id is null or not exists (select from auth.users u where u.id = v_user_id) then
    return jsonb_build_object('outcome', 'unlinked', 'error', format('no Tollgate user for subscription %s', v_stripe_id));
  end if;

  v_price := tollgate_private.provider_id(v_item -> 'price');
  select p.id into v_plan_id from tollgate.plans p where p.stripe_price_id = v_price;
  if v_plan_id is null then
    return jsonb_build_object('outcome', 'unlinked', 'error', format('no plan has Stripe price %s', coalesce(v_price, '(none)')));
  end if;

  -- Since API 2025-03-31.basil the period lives on each item; older versions put it on the subscription.
  v_period_start := coalesce(
    tollgate_private.unix_time(v_item -> 'current_period_start'),
    tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'current_period_start'));
  v_period_end := coalesce(
    tollgate_private.unix_time(v_item -> 'current_period_end'),
    tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'current_period_end'));
  if v_period_end <= v_period_start then
    v_period_end := null;
  end if;
  v_cancel_at := tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'cancel_at');

  -- One writer per user at a time: two subscriptions of one user applied at once cannot both go live.
  perform pg_advisory_xact_lock(hashtextextended('tollgate.user:' || v_user_id::text, 0));
  perform tollgate_private.link_customer(v_user_id, 'stripe', v_customer);
  if not tollgate_private.advance_watermark('stripe', 'subscription', v_stripe_id, apply_stripe_subscription.event_at, apply_stripe_subscription.event_id) then
    return jsonb_build_object('outcome', 'stale');
  end if;

  select r.local_id into v_local_id
  from tollgate_private.provider_refs r
  where r.provider = 'stripe' and r.object_type = 'subscription' and r.provider_id = v_stripe_id;

  if v_status in ('trialing', 'active', 'past_due', 'unpaid', 'paused') then
    -- This one is live: it replaces whatever else is live for the user (one live per user).
    for v_other in
      select s.id from tollgate.subscriptions s
      where s.user_id = v_user_id
        and s.status in ('trialing', 'active', 'past_due', 'unpaid', 'paused')
        and s.id is distinct from v_local_id
    loop
      update tollgate.subscriptions s
      set status = 'canceled', canceled_at = coalesce(s.canceled_at, apply_stripe_subscription.event_at),
          ended_at = apply_stripe_subscription.event_at
      where s.id = v_other;
    end loop;
  end if;

  if v_local_id is null then
    insert into tollgate.subscriptions (
      user_id, plan_id, status, provider, current_period_start, current_period_end, billing_cycle_anchor,
      cancel_at_period_end, canceled_at, ended_at, trial_end, created_at)
    values (
      v_user_id, v_plan_id, v_status, 'stripe', v_period_start, v_period_end,
      tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'billing_cycle_anchor'),
      coalesce((apply_stripe_subscription.subscription ->> 'cancel_at_period_end')::boolean, false)
        or (v_cancel_at is not null and v_cancel_at <= v_period_end),
      tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'canceled_at'),
      tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'ended_at'),
      tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'trial_end'),
      coalesce(tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'created'), now()))
    returning id into v_local_id;
    update tollgate_private.provider_refs r
    set local_id = v_local_id, user_id = v_user_id
    where r.provider = 'stripe' and r.object_type = 'subscription' and r.provider_id = v_stripe_id;
    -- Invoices seen before their subscription now get linked to it.
    update tollgate.invoices i
    set subscription_id = v_local_id
    from tollgate_private.provider_refs r
    where r.provider = 'stripe' and r.object_type = 'invoice' and r.parent_id = v_stripe_id
      and i.id = r.local_id and i.subscription_id is null;
  else
    update tollgate.subscriptions s
    set plan_id = v_plan_id,
        status = v_status,
        current_period_start = v_period_start,
        current_period_end = v_period_end,
        billing_cycle_anchor = coalesce(
          tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'billing_cycle_anchor'), s.billing_cycle_anchor),
        cancel_at_period_end = coalesce((apply_stripe_subscription.subscription ->> 'cancel_at_period_end')::boolean, false)
          or (v_cancel_at is not null and v_cancel_at <= v_period_end),
        canceled_at = tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'canceled_at'),
        ended_at = tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'ended_at'),
        trial_end = tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'trial_end')
    where s.id = v_local_id
      -- An identical snapshot (a verify after its webhook) writes nothing.
      and (s.plan_id, s.status, s.current_period_start, s.current_period_end, s.cancel_at_period_end,
           s.canceled_at, s.ended_at, s.trial_end)
        is distinct from
          (v_plan_id, v_status, v_period_start, v_period_end,
           coalesce((apply_stripe_subscription.subscription ->> 'cancel_at_period_end')::boolean, false)
             or (v_cancel_at is not null and v_cancel_at <= v_period_end),
           tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'canceled_at'),
           tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'ended_at'),
           tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'trial_end'));
  end if;

  return jsonb_build_object('outcome', 'applied', 'subscription_id', v_local_id, 'user_id', v_user_id);
end;
$$;

comment on function tollgate_private.apply_stripe_subscription(jsonb, timestamptz, text, uuid) is
  E'Applies a Stripe subscription snapshot (any API version: periods from its first item, or from the subscription before basil) unless a newer event about it was applied already. Finds the user by hint, metadata.user_id or customer, the plan by the first item''s price. Outcome applied, stale or unlinked.';

revoke all on function tollgate_private.apply_stripe_subscription(jsonb, timestamptz, text, uuid) from public, anon, authenticated, service_role;

-- ==== sql/0832_function_apply_stripe_invoice.sql
create function tollgate_private.apply_stripe_invoice(invoice jsonb, event_at timestamptz, event_id text)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_stripe_id text := apply_stripe_invoice.invoice ->> 'id';
  v_customer text := tollgate_private.provider_id(apply_stripe_invoice.invoice -> 'customer');
  -- Since basil an invoice names its subscription under parent; before, at the top level.
  v_stripe_subscription text := coalesce(
    tollgate_private.provider_id(apply_stripe_invoice.invoice #> '{parent,subscription_details,subscription}'),
    tollgate_private.provider_id(apply_stripe_invoice.invoice -> 'subscription'));
  v_line jsonb := apply_stripe_invoice.invoice #> '{lines,data,0}';
  v_user_id uuid;
  v_subscription_id uuid;
  v_local_id uuid;
  v_status text := apply_stripe_invoice.invoice ->> 'status';
begin
  if v_stripe_id is null or v_stripe_id !~ '^in_' then
    raise exception 'Not a Stripe invoice object' using errcode = 'BADEV';
  end if;
  if v_status is null or v_status not in ('draft', 'open', 'paid', 'void', 'uncollectible') then
    return jsonb_build_object('outcome', 'ignored', 'error', format('invoice status %s', coalesce(v_status, '(none)')));
  end if;

  v_user_id := coalesce(
    (select c.user_id from tollgate_private.customers c where c.provider = 'stripe' and c.provider_customer_id = v_customer),
    tollgate_private.uuid_or_null(apply_stripe_invoice.invoice #>> '{parent,subscription_details,metadata,user_id}'),
    tollgate_private.uuid_or_null(apply_stripe_invoice.invoice #>> '{subscription_details,metadata,user_id}'),
    (select r.user_id from tollgate_private.provider_refs r
     where r.provider = 'stripe' and r.object_type = 'subscription' and r.provider_id = v_stripe_subscription));
  if v_user_id is null or not exists (select from auth.users u where u.id = v_user_id) then
    return jsonb_build_object('outcome', 'unlinked', 'error', format('no Tollgate user for invoice %s', v_stripe_id));
  end if;

  if not tollgate_private.advance_watermark('stripe', 'invoice', v_stripe_id, apply_stripe_invoice.event_at, apply_stripe_invoice.event_id) then
    return jsonb_build_object('outcome', 'stale');
  end if;

  select r.local_id into v_subscription_id
  from tollgate_private.provider_refs r
  where r.provider = 'stripe' and r.object_type = 'subscription' and r.provider_id = v_stripe_subscription;

  select r.local_id into v_local_id
  from tollgate_private.provider_refs r
  where r.provider = 'stripe' and r.object_type = 'invoice' and r.provider_id = v_stripe_id;

  if v_local_id is null then
    insert into tollgate.invoices (user_id, provider, status, currency, created_at)
    values (v_user_id, 'stripe', v_status, lower(coalesce(apply_stripe_invoice.invoice ->> 'currency', 'usd')),
      coalesce(tollgate_private.unix_time(apply_stripe_invoice.invoice -> 'created'), now()))
    returning id into v_local_id;
    update tollgate_private.provider_refs r
    set local_id = v_local_id, user_id = v_user_id, parent_id = v_stripe_subscription
    where r.provider = 'stripe' and r.object_type = 'invoice' and r.provider_id = v_stripe_id;
  end if;

  update tollgate.invoices i
  set subscription_id = coalesce(v_subscription_id, i.subscription_id),
      number = apply_stripe_invoice.invoice ->> 'number',
      status = v_status,
      currency = lower(coalesce(apply_stripe_invoice.invoice ->> 'currency', i.currency)),
      amount_due = greatest(coalesce((apply_stripe_invoice.invoice ->> 'amount_due')::bigint, 0), 0),
      amount_paid = greatest(coalesce((apply_stripe_invoice.invoice ->> 'amount_paid')::bigint, 0), 0),
      -- The service period is on the lines; the invoice's own period_* are when items were added.
      period_start = coalesce(tollgate_private.unix_time(v_line #> '{period,start}'),
        tollgate_private.unix_time(apply_stripe_invoice.invoice -> 'period_start')),
      period_end = coalesce(tollgate_private.unix_time(v_line #> '{period,end}'),
        tollgate_private.unix_time(apply_stripe_invoice.invoice -> 'period_end')),
      hosted_invoice_url = apply_stripe_invoice.invoice ->> 'hosted_invoice_url',
      invoice_pdf = apply_stripe_invoice.invoice ->> 'invoice_pdf',
      paid_at = tollgate_private.unix_time(apply_stripe_invoice.invoice #> '{status_transitions,paid_at}')
  where i.id = v_local_id;

  return jsonb_build_object('outcome', 'applied', 'invoice_id', v_local_id, 'user_id', v_user_id);
end;
$$;

comment on function tollgate_private.apply_stripe_invoice(jsonb, timestamptz, text) is
  E'Upserts a Stripe invoice (any API version) into tollgate.invoices unless a newer event about it was applied already. Finds the user by customer or subscription metadata. Outcome applied, stale, ignored or unlinked.';

revoke all on function tollgate_private.apply_stripe_invoice(jsonb, timestamptz, text) from public, anon, authenticated, service_role;

-- ==== sql/0833_function_apply_stripe_checkout.sql
create function tollgate_private.apply_stripe_checkout(
  session jsonb,
  subscription jsonb,
  event_at timestamptz,
  event_id text
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_session_id text := apply_stripe_checkout.session ->> 'id';
  v_user_id uuid;
  v_checkout_id text := apply_stripe_checkout.session #>> '{metadata,tollgate_checkout_id}';
  v_result jsonb;
begin
  if v_session_id is null or v_session_id !~ '^cs_' then
    raise exception 'Not a Stripe Checkout Session object' using errcode = 'BADEV';
  end if;
  if apply_stripe_checkout.session ->> 'mode' is distinct from 'subscription' then
    return jsonb_build_object('outcome', 'ignored', 'error', 'not a subscription checkout');
  end if;

  v_user_id := coalesce(
    tollgate_private.uuid_or_null(apply_stripe_checkout.session ->> 'client_reference_id'),
    tollgate_private.uuid_or_null(apply_stripe_checkout.session #>> '{metadata,user_id}'),
    (select r.user_id from tollgate_private.provider_refs r
     where r.provider = 'stripe' and r.object_type = 'checkout_session' and r.provider_id = v_session_id));
  if v_user_id is null or not exists (select from auth.users u where u.id = v_user_id) then
    return jsonb_build_object('outcome', 'unlinked', 'error', format('no Tollgate user for checkout %s', v_session_id));
  end if;

  if apply_stripe_checkout.session ->> 'payment_status' not in ('paid', 'no_payment_required') then
    -- Paid later (async methods): checkout.session.async_payment_succeeded applies it.
    return jsonb_build_object('outcome', 'ignored', 'error', 'not paid yet');
  end if;

  perform tollgate_private.link_customer(
    v_user_id, 'stripe', tollgate_private.provider_id(apply_stripe_checkout.session -> 'customer'));
  if v_checkout_id is not null then
    perform tollgate_private.settle_coupon(v_checkout_id, true);
  end if;

  if apply_stripe_checkout.subscription is null then
    -- The subscription's own events will bring it.
    return jsonb_build_object('outcome', 'applied', 'user_id', v_user_id);
  end if;
  if tollgate_private.provider_id(apply_stripe_checkout.session -> 'subscription') is distinct from apply_stripe_checkout.subscription ->> 'id' then
    raise exception 'The subscription given is not the checkout''s' using errcode = 'BADEV';
  end if;
  v_result := tollgate_private.apply_stripe_subscription(
    apply_stripe_checkout.subscription, apply_stripe_checkout.event_at, apply_stripe_checkout.event_id, v_user_id);
  -- A stale snapshot means a newer one is applied already: the checkout itself is done.
  if v_result ->> 'outcome' = 'stale' then
    return jsonb_build_object('outcome', 'applied', 'user_id', v_user_id);
  end if;
  return v_result;
end;
$$;

comment on function tollgate_private.apply_stripe_checkout(jsonb, jsonb, timestamptz, text) is
  E'Applies a completed, paid subscription-mode Checkout Session: links the customer to the user (client_reference_id), redeems the coupon and applies the subscription snapshot fetched with it. Shared by the webhook and verify-payment.';

revoke all on function tollgate_private.apply_stripe_checkout(jsonb, jsonb, timestamptz, text) from public, anon, authenticated, service_role;

-- ==== sql/0834_function_apply_stripe_event.sql
create function tollgate_private.apply_stripe_event(event jsonb, related jsonb default null)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_event_id text := apply_stripe_event.event ->> 'id';
  v_type text := apply_stripe_event.event ->> 'type';
  v_at timestamptz := tollgate_private.unix_time(apply_stripe_event.event -> 'created');
  v_object jsonb := apply_stripe_event.event #> '{data,object}';
  v_processed timestamptz;
  v_result jsonb;
begin
  if v_event_id is null or v_event_id !~ '^evt_' or v_type is null or v_at is null
    or jsonb_typeof(v_object) is distinct from 'object' then
    raise exception 'Not a Stripe event' using errcode = 'BADEV', hint = 'Expected id evt_..., type, created and data.object.';
  end if;

  -- GUARD: record once; a duplicate waits here for the first delivery, then finds it processed.
  insert into tollgate_private.webhook_events (provider, event_id, type, api_version, event_created_at, payload)
  values ('stripe', v_event_id, v_type, apply_stripe_event.event ->> 'api_version', v_at, apply_stripe_event.event)
  on conflict on constraint webhook_events_provider_event_id_key do update
    set attempts = tollgate_private.webhook_events.attempts + 1,
        -- A failed first delivery was noted without these.
        api_version = coalesce(tollgate_private.webhook_events.api_version, excluded.api_version),
        event_created_at = coalesce(tollgate_private.webhook_events.event_created_at, excluded.event_created_at),
        payload = excluded.payload
  returning processed_at into v_processed;
  if v_processed is not null then
    return jsonb_build_object('outcome', 'duplicate', 'event_id', v_event_id, 'type', v_type);
  end if;

  perform set_config('tollgate.audit_reason', 'stripe:' || v_event_id, true);

  case
    when v_type in ('checkout.session.completed', 'checkout.session.async_payment_succeeded') then
      v_result := tollgate_private.apply_stripe_checkout(v_object, apply_stripe_event.related -> 'subscription', v_at, v_event_id);
    when v_type in ('checkout.session.async_payment_failed', 'checkout.session.expired') then
      if v_object #>> '{metadata,tollgate_checkout_id}' is not null then
        perform tollgate_private.settle_coupon(v_object #>> '{metadata,tollgate_checkout_id}', false);
      end if;
      v_result := jsonb_build_object('outcome', 'applied');
    when v_type like 'customer.subscription.%' then
      v_result := tollgate_private.apply_stripe_subscription(v_object, v_at, v_event_id, null);
    -- invoice.upcoming previews an invoice that does not exist yet (no id): nothing to store.
    when v_type like 'invoice.%' and v_object ->> 'object' = 'invoice' and v_object ->> 'id' is not null then
      v_result := tollgate_private.apply_stripe_invoice(v_object, v_at, v_event_id);
    else
      v_result := jsonb_build_object('outcome', 'ignored');
  end case;

  update tollgate_private.webhook_events w
  set processed_at = now(),
      outcome = v_result ->> 'outcome',
      error = v_result ->> 'error'
  where w.provider = 'stripe' and w.event_id = v_event_id;

  return v_result || jsonb_build_object('event_id', v_event_id, 'type', v_type);
end;
$$;

comment on function tollgate_private.apply_stripe_event(jsonb, jsonb) is
  E'Records a verified Stripe event in the webhook ledger and applies it, once, in one transaction: a duplicate delivery is a no-op; an event older than what was applied to its object is recorded as stale. related.subscription carries the subscription a checkout created, fetched by the caller.';

revoke all on function tollgate_private.apply_stripe_event(jsonb, jsonb) from public, anon, authenticated, service_role;

-- ==== sql/0835_function_apply_stripe_checkout_for.sql
create function tollgate_private.apply_stripe_checkout_for(user_id uuid, session jsonb, subscription jsonb)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_session_id text := apply_stripe_checkout_for.session ->> 'id';
  v_owner uuid := coalesce(
    tollgate_private.uuid_or_null(apply_stripe_checkout_for.session ->> 'client_reference_id'),
    tollgate_private.uuid_or_null(apply_stripe_checkout_for.session #>> '{metadata,user_id}'));
  v_result jsonb;
begin
  if v_owner is distinct from apply_stripe_checkout_for.user_id then
    raise exception 'This checkout is not yours' using errcode = 'NOTYR';
  end if;
  if apply_stripe_checkout_for.session ->> 'mode' is distinct from 'subscription'
    or apply_stripe_checkout_for.session ->> 'payment_status' not in ('paid', 'no_payment_required') then
    raise exception 'The checkout is not paid yet' using errcode = 'NOTPD',
      detail = format('status %s, payment_status %s', apply_stripe_checkout_for.session ->> 'status',
        apply_stripe_checkout_for.session ->> 'payment_status');
  end if;
  perform set_config('tollgate.audit_reason', 'stripe:verify:' || v_session_id, true);
  -- The snapshot was fetched just now: newer than every event Stripe created before (whole seconds).
  v_result := tollgate_private.apply_stripe_checkout(
    apply_stripe_checkout_for.session, apply_stripe_checkout_for.subscription,
    now(), 'verify:' || v_session_id);
  if v_result ->> 'outcome' not in ('applied', 'stale') then
    raise exception 'The checkout could not be applied: %', coalesce(v_result ->> 'error', v_result ->> 'outcome')
      using errcode = 'NOTPD';
  end if;
  return tollgate_private.live_subscription_of(apply_stripe_checkout_for.user_id);
end;
$$;

comment on function tollgate_private.apply_stripe_checkout_for(uuid, jsonb, jsonb) is
  E'verify-payment for Stripe: checks the session is the caller''s (NOTYR) and paid (NOTPD), then applies it exactly as the webhook would; whichever comes second changes nothing. Returns the caller''s live subscription.';

revoke all on function tollgate_private.apply_stripe_checkout_for(uuid, jsonb, jsonb) from public, anon, authenticated, service_role;

-- ==== sql/0836_function_apply_stripe_subscription_for.sql
create function tollgate_private.apply_stripe_subscription_for(user_id uuid, subscription jsonb, reason text)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_owner uuid;
  v_result jsonb;
begin
  select r.user_id into v_owner
  from tollgate_private.provider_refs r
  where r.provider = 'stripe' and r.object_type = 'subscription' and r.provider_id = apply_stripe_subscription_for.subscription ->> 'id';
  if v_owner is distinct from apply_stripe_subscription_for.user_id then
    raise exception 'This subscription is not yours' using errcode = 'NOTYR';
  end if;
  perform set_config('tollgate.audit_reason', 'stripe:' || apply_stripe_subscription_for.reason, true);
  v_result := tollgate_private.apply_stripe_subscription(
    apply_stripe_subscription_for.subscription, now(),
    'api:' || apply_stripe_subscription_for.reason, apply_stripe_subscription_for.user_id);
  if v_result ->> 'outcome' not in ('applied', 'stale') then
    raise exception 'The subscription could not be applied: %', coalesce(v_result ->> 'error', v_result ->> 'outcome')
      using errcode = 'BADEV';
  end if;
  return tollgate_private.live_subscription_of(apply_stripe_subscription_for.user_id);
end;
$$;

comment on function tollgate_private.apply_stripe_subscription_for(uuid, jsonb, text) is
  E'Applies the subscription Stripe returned from a change made for the user (change-plan, cancel, resume) the same way its webhook will; refuses (NOTYR) a subscription that is not theirs. Returns their live subscription.';

revoke all on function tollgate_private.apply_stripe_subscription_for(uuid, jsonb, text) from public, anon, authenticated, service_role;

-- ==== sql/0840_function_apply_razorpay_payment.sql
create function tollgate_private.apply_razorpay_payment(
  user_id uuid,
  order_id text,
  payment_id text,
  amount bigint,
  source text,
  as_of timestamptz
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_order tollgate_private.provider_refs;
  v_plan tollgate.plans;
  v_live tollgate.subscriptions;
  v_step interval;
  v_subscription_id uuid;
  v_invoice_id uuid;
  v_period_start timestamptz;
  v_period_end timestamptz;
  v_amount bigint;
begin
  -- GUARD: the order row is locked until commit; an order pays for one interval, once.
  select r.* into v_order
  from tollgate_private.provider_refs r
  where r.provider = 'razorpay' and r.object_type = 'order' and r.provider_id = apply_razorpay_payment.order_id
  for update;
  if v_order.provider_id is null then
    if apply_razorpay_payment.user_id is not null then
      raise exception 'Unknown order %', apply_razorpay_payment.order_id using errcode = 'NOORD';
    end if;
    return jsonb_build_object('outcome', 'unlinked', 'error', format('order %s was not created by Tollgate', apply_razorpay_payment.order_id));
  end if;
  if apply_razorpay_payment.user_id is not null and v_order.user_id is distinct from apply_razorpay_payment.user_id then
    raise exception 'This order is not yours' using errcode = 'NOTYR';
  end if;
  if v_order.local_id is not null then
    return jsonb_build_object('outcome', 'duplicate', 'subscription_id', v_order.local_id, 'user_id', v_order.user_id);
  end if;

  v_amount := (v_order.details ->> 'amount')::bigint;
  if apply_razorpay_payment.amount is not null and apply_razorpay_payment.amount <> v_amount then
    if apply_razorpay_payment.user_id is not null then
      raise exception 'The payment does not match the order amount' using errcode = 'PAYMM',
        detail = format('paid %s, order %s', apply_razorpay_payment.amount, v_amount);
    end if;
    return jsonb_build_object('outcome', 'unlinked', 'error', format('paid %s, order %s', apply_razorpay_payment.amount, v_amount));
  end if;

  select p.* into v_plan from tollgate.plans p where p.id = v_order.details ->> 'plan_id';
  v_step := case v_plan."interval" when 'year' then interval '1 year' else interval '1 month' end;

  perform pg_advisory_xact_lock(hashtextextended('tollgate.user:' || v_order.user_id::text, 0));
  perform set_config('tollgate.audit_reason', 'razorpay:' || apply_razorpay_payment.source, true);

  select s.* into v_live
  from tollgate.subscriptions s
  where s.user_id = v_order.user_id and s.status in ('trialing', 'active', 'past_due', 'unpaid', 'paused');

  if v_live.provider = 'razorpay' and v_live.plan_id = v_plan.id then
    -- Renewal: one more interval, from the end of the paid one (or now, if it has lapsed).
    v_period_start := greatest(v_live.current_period_end, apply_razorpay_payment.as_of);
    -- In UTC wall time, like usage periods: the session's time zone must not move the end.
    v_period_end := (v_period_start at time zone 'UTC' + v_step) at time zone 'UTC';
    update tollgate.subscriptions s
    set status = 'active', current_period_end = v_period_end, cancel_at_period_end = false,
        canceled_at = null
    where s.id = v_live.id;
    v_subscription_id := v_live.id;
  else
    if v_live.id is not null then
      update tollgate.subscriptions s
      set status = 'canceled', canceled_at = coalesce(s.canceled_at, apply_razorpay_payment.as_of),
          ended_at = apply_razorpay_payment.as_of
      where s.id = v_live.id;
    end if;
    v_period_start := apply_razorpay_payment.as_of;
    -- In UTC wall time, like usage periods: the session's time zone must not move the end.
    v_period_end := (v_period_start at time zone 'UTC' + v_step) at time zone 'UTC';
    insert into tollgate.subscriptions (
      user_id, plan_id, status, provider, current_period_start, current_period_end, billing_cycle_anchor)
    values (v_order.user_id, v_plan.id, 'active', 'razorpay', v_period_start, v_period_end, v_period_start)
    returning id into v_subscription_id;
  end if;

  insert into tollgate.invoices (
    user_id, subscription_id, provider, number, status, currency, amount_due, amount_paid,
    period_start, period_end, paid_at)
  values (
    v_order.user_id, v_subscription_id, 'razorpay', apply_razorpay_payment.order_id, 'paid',
    coalesce(v_order.details ->> 'currency', v_plan.currency), v_amount, v_amount, v_period_start, v_period_end,
    apply_razorpay_payment.as_of)
  returning id into v_invoice_id;

  update tollgate_private.provider_refs r
  set local_id = v_subscription_id, last_event_at = apply_razorpay_payment.as_of,
      last_event_id = apply_razorpay_payment.source
  where r.provider = 'razorpay' and r.object_type = 'order' and r.provider_id = apply_razorpay_payment.order_id;
  insert into tollgate_private.provider_refs (provider, object_type, provider_id, local_id, user_id, parent_id)
  values ('razorpay', 'payment', apply_razorpay_payment.payment_id, v_invoice_id, v_order.user_id, apply_razorpay_payment.order_id)
  on conflict do nothing;
  if v_order.details ->> 'checkout_id' is not null then
    perform tollgate_private.settle_coupon(v_order.details ->> 'checkout_id', true);
  end if;

  return jsonb_build_object('outcome', 'applied', 'subscription_id', v_subscription_id, 'user_id', v_order.user_id,
    'invoice_id', v_invoice_id);
end;
$$;

comment on function tollgate_private.apply_razorpay_payment(uuid, text, text, bigint, text, timestamptz) is
  E'Applies a captured Razorpay payment of an order Tollgate created: activates the order''s plan for one interval (or renews the same plan from the end of the paid period), records a paid invoice, redeems the coupon. Once per order, whichever of verify-payment and webhook comes first. user_id (verify-payment) must own the order (NOTYR); amount, when given, must match it.';

revoke all on function tollgate_private.apply_razorpay_payment(uuid, text, text, bigint, text, timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0841_function_apply_razorpay_event.sql
create function tollgate_private.apply_razorpay_event(event_id text, event jsonb)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_type text := apply_razorpay_event.event ->> 'event';
  v_at timestamptz := coalesce(tollgate_private.unix_time(apply_razorpay_event.event -> 'created_at'), now());
  v_payment jsonb := apply_razorpay_event.event #> '{payload,payment,entity}';
  v_order jsonb := apply_razorpay_event.event #> '{payload,order,entity}';
  v_processed timestamptz;
  v_result jsonb;
begin
  if apply_razorpay_event.event_id is null or length(apply_razorpay_event.event_id) not between 1 and 255
    or v_type is null or jsonb_typeof(apply_razorpay_event.event -> 'payload') is distinct from 'object' then
    raise exception 'Not a Razorpay event' using errcode = 'BADEV', hint = 'Expected event, payload and an x-razorpay-event-id.';
  end if;

  -- GUARD: record once; a duplicate waits here for the first delivery, then finds it processed.
  insert into tollgate_private.webhook_events (provider, event_id, type, event_created_at, payload)
  values ('razorpay', apply_razorpay_event.event_id, v_type, v_at, apply_razorpay_event.event)
  on conflict on constraint webhook_events_provider_event_id_key do update
    set attempts = tollgate_private.webhook_events.attempts + 1,
        -- A failed first delivery was noted without these.
        event_created_at = coalesce(tollgate_private.webhook_events.event_created_at, excluded.event_created_at),
        payload = excluded.payload
  returning processed_at into v_processed;
  if v_processed is not null then
    return jsonb_build_object('outcome', 'duplicate', 'event_id', apply_razorpay_event.event_id, 'type', v_type);
  end if;

  case v_type
    when 'payment.captured' then
      v_result := tollgate_private.apply_razorpay_payment(
        null, v_payment ->> 'order_id', v_payment ->> 'id', (v_payment ->> 'amount')::bigint,
        apply_razorpay_event.event_id, v_at);
    when 'order.paid' then
      v_result := tollgate_private.apply_razorpay_payment(
        null, v_order ->> 'id', v_payment ->> 'id', (v_order ->> 'amount_paid')::bigint,
        apply_razorpay_event.event_id, v_at);
    when 'payment.failed' then
      -- The order stays open: the user may pay it with another attempt.
      v_result := jsonb_build_object('outcome', 'ignored', 'error', v_payment ->> 'error_description');
    else
      v_result := jsonb_build_object('outcome', 'ignored');
  end case;
  if v_result ->> 'outcome' = 'duplicate' then
    -- The order was applied by verify-payment or by the other event of the same payment.
    v_result := v_result || jsonb_build_object('outcome', 'applied');
  end if;

  update tollgate_private.webhook_events w
  set processed_at = now(), outcome = v_result ->> 'outcome', error = v_result ->> 'error'
  where w.provider = 'razorpay' and w.event_id = apply_razorpay_event.event_id;

  return v_result || jsonb_build_object('event_id', apply_razorpay_event.event_id, 'type', v_type);
end;
$$;

comment on function tollgate_private.apply_razorpay_event(text, jsonb) is
  E'Records a verified Razorpay webhook (deduplicated by x-razorpay-event-id) and applies payment.captured and order.paid once per order; payment.failed and other types are recorded and acknowledged.';

revoke all on function tollgate_private.apply_razorpay_event(text, jsonb) from public, anon, authenticated, service_role;

-- ==== sql/0842_function_record_webhook_failure.sql
create function tollgate_private.record_webhook_failure(
  provider text,
  event_id text,
  type text,
  payload jsonb,
  error text
)
returns void
language sql
volatile
security invoker
set search_path = ''
as $$
  -- Runs in its own transaction after the apply rolled back: the event stays unprocessed, so
  -- the provider's retry applies it.
  insert into tollgate_private.webhook_events (provider, event_id, type, payload, error)
  values (record_webhook_failure.provider, record_webhook_failure.event_id, coalesce(record_webhook_failure.type, 'unknown'),
    coalesce(record_webhook_failure.payload, '{}'::jsonb), left(record_webhook_failure.error, 2000))
  on conflict on constraint webhook_events_provider_event_id_key do update
    set error = excluded.error, attempts = tollgate_private.webhook_events.attempts + 1
    where tollgate_private.webhook_events.processed_at is null
$$;

comment on function tollgate_private.record_webhook_failure(text, text, text, jsonb, text) is
  E'Notes in the webhook ledger why applying an event failed (the apply itself rolled back); the event stays unprocessed for the provider''s retry.';

revoke all on function tollgate_private.record_webhook_failure(text, text, text, jsonb, text) from public, anon, authenticated, service_role;

-- ==== sql/0843_function_set_local_subscription.sql
create function tollgate_private.set_local_subscription(user_id uuid, action text, as_of timestamptz)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_live tollgate.subscriptions;
begin
  select s.* into v_live
  from tollgate.subscriptions s
  where s.user_id = set_local_subscription.user_id and s.status in ('trialing', 'active', 'past_due', 'unpaid', 'paused')
  for update;
  if v_live.id is null then
    if set_local_subscription.action = 'end' then
      return null;
    end if;
    raise exception 'You have no live subscription' using errcode = 'NOSUB';
  end if;
  if v_live.provider = 'stripe' then
    raise exception 'Stripe subscriptions change through Stripe' using errcode = 'TGCFG';
  end if;
  perform set_config('tollgate.audit_reason', 'user:' || set_local_subscription.action, true);
  case set_local_subscription.action
    when 'cancel' then
      update tollgate.subscriptions s
      set cancel_at_period_end = true, canceled_at = set_local_subscription.as_of
      where s.id = v_live.id;
    when 'resume' then
      update tollgate.subscriptions s
      set cancel_at_period_end = false, canceled_at = null
      where s.id = v_live.id;
    when 'end' then
      update tollgate.subscriptions s
      set status = 'canceled', canceled_at = coalesce(s.canceled_at, set_local_subscription.as_of),
          ended_at = set_local_subscription.as_of
      where s.id = v_live.id;
    else
      raise exception 'Unknown action %', set_local_subscription.action using errcode = '22023';
  end case;
  return (select to_jsonb(s) from tollgate.subscriptions s where s.id = v_live.id);
end;
$$;

comment on function tollgate_private.set_local_subscription(uuid, text, timestamptz) is
  E'Cancel at period end, resume, or end now the user''s live Razorpay or internal subscription (Stripe ones change through Stripe). NOSUB when there is none to cancel or resume. Returns the subscription.';

revoke all on function tollgate_private.set_local_subscription(uuid, text, timestamptz) from public, anon, authenticated, service_role;

-- ==== sql/0900_schedule.sql
-- Scheduled maintenance where pg_cron exists; elsewhere the migration still applies and lazy
-- resets keep quotas right.
do $$
begin
  if exists (select from pg_catalog.pg_available_extensions where name = 'pg_cron')
    and not exists (select from pg_catalog.pg_extension where extname = 'pg_cron') then
    begin
      create extension pg_cron;
    exception when others then
      raise notice 'pg_cron is available but could not be enabled here (%); enable it and run tollgate_private.schedule_maintenance()', sqlerrm;
    end;
  end if;
  perform tollgate_private.schedule_maintenance();
end;
$$;
