create function tollgate_private.stripe_catalog()
returns table (
  source text,
  source_id text,
  name text,
  description text,
  amount bigint,
  currency text,
  "interval" text,
  stripe_price_id text
)
language sql
stable
security invoker
set search_path = ''
as $$
  -- One source today (plans); a second (products) adds a union all branch with its own source.
  select 'plan'::text, p.id, p.name, p.description, p.amount, p.currency, p."interval", p.stripe_price_id
  from tollgate.plans p
  where p.active and p.amount > 0
  order by p.sort_order, p.id;
$$;

comment on function tollgate_private.stripe_catalog() is
  E'What npm run stripe:sync must have at Stripe: every active paid plan (source plan) with its amount, currency, interval and current Stripe price.';

revoke all on function tollgate_private.stripe_catalog() from public, anon, authenticated, service_role;
