-- Tollgate seed: the plans, limits and coupons of CONTRACT.md. Safe to run again: existing rows
-- (and any edits an admin made to them) are left alone.
insert into tollgate.plans (id, name, description, amount, currency, "interval", trial_days, features, active, sort_order, stripe_price_id)
values
  ('free', 'Free', 'For trying things out.', 0, 'usd', 'month', 0,
    array['1,000 API calls a month', '3 projects', '1 GB storage'], true, 0, null),
  ('pro', 'Pro', 'For growing apps.', 2900, 'usd', 'month', 0,
    array['100,000 API calls a month; an upgrade that starts a new billing period carries unused calls over', '100 projects', '50 GB storage'], true, 10, 'price_pro_monthly'),
  ('enterprise', 'Enterprise', 'For apps at scale.', 9900, 'usd', 'month', 0,
    array['1,000,000 API calls a month; an upgrade that starts a new billing period carries unused calls over', 'Unlimited projects', '500 GB storage'], true, 20, 'price_enterprise_monthly')
on conflict (id) do nothing;

insert into tollgate.plan_limits (plan_id, metric, quota, period, carry_over)
values
  ('free', 'api_calls', 1000, 'month', false),
  ('free', 'projects', 3, 'never', false),
  ('free', 'storage_gb', 1, 'never', false),
  ('free', 'api_keys', 2, 'never', false),
  ('free', 'requests', 100, 'hour', false),
  ('pro', 'api_calls', 100000, 'month', true),
  ('pro', 'projects', 100, 'never', false),
  ('pro', 'storage_gb', 50, 'never', false),
  ('pro', 'api_keys', 20, 'never', false),
  ('pro', 'requests', 1000, 'hour', false),
  ('enterprise', 'api_calls', 1000000, 'month', true),
  ('enterprise', 'projects', -1, 'never', false),
  ('enterprise', 'storage_gb', 500, 'never', false),
  ('enterprise', 'api_keys', -1, 'never', false),
  ('enterprise', 'requests', 10000, 'hour', false)
on conflict (plan_id, metric) do nothing;

-- Both are introductory discounts: the first payment only (duration once). WELCOME20 is valid for
-- a year from the seeding that creates it; a later run leaves the row, so its end never moves.
insert into tollgate_private.coupons (code, percent_off, max_uses, plan_ids, duration, valid_until)
values
  ('WELCOME20', 20, 1000, array['pro', 'enterprise'], 'once', now() + interval '1 year'),
  ('STUDENT50', 50, 500, array['pro'], 'once', null)
on conflict (code) do nothing;

-- The seeded plans' prices start their price history (stripe:sync adds the ones it creates).
insert into tollgate_private.plan_prices (price_id, plan_id, provider, amount, currency, "interval", active)
select p.stripe_price_id, p.id, 'stripe', p.amount, p.currency, p."interval", true
from tollgate.plans p
where p.id in ('pro', 'enterprise') and p.stripe_price_id in ('price_pro_monthly', 'price_enterprise_monthly')
on conflict (price_id) do nothing;

-- Products (one-time purchases of credits) and what subscribers pay less for them.
insert into tollgate.products (id, name, description, amount, currency, metric, credits, credits_valid_days, stripe_price_id, active, sort_order)
values
  ('api_calls_pack', 'API calls pack', '50,000 extra API calls, used once your plan''s monthly calls are spent; valid for a year.',
    1000, 'usd', 'api_calls', 50000, 365, 'price_api_calls_pack', true, 0)
on conflict (id) do nothing;

insert into tollgate.member_discounts (plan_id, product_id, percent_off)
values
  ('pro', 'api_calls_pack', 10),
  ('enterprise', 'api_calls_pack', 20)
on conflict (plan_id, product_id) do nothing;

-- Features each paid plan unlocks (tollgate.has_feature).
insert into tollgate.plan_features (plan_id, feature)
values
  ('pro', 'export'),
  ('pro', 'priority_support'),
  ('enterprise', 'export'),
  ('enterprise', 'priority_support'),
  ('enterprise', 'sso')
on conflict (plan_id, feature) do nothing;

-- The seeded product's price starts its price history (stripe:sync adds the ones it creates).
insert into tollgate_private.product_prices (price_id, product_id, provider, amount, currency, active)
select p.stripe_price_id, p.id, 'stripe', p.amount, p.currency, true
from tollgate.products p
where p.id = 'api_calls_pack' and p.stripe_price_id = 'price_api_calls_pack'
on conflict (price_id) do nothing;
