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
  -- Plans (recurring prices) first, then products (one-time prices: interval is null).
  select c.source, c.source_id, c.name, c.description, c.amount, c.currency, c."interval", c.stripe_price_id
  from (
    select 'plan'::text as source, 1 as source_order, p.sort_order, p.id as source_id, p.name, p.description,
      p.amount, p.currency, p."interval", p.stripe_price_id
    from tollgate.plans p
    where p.active and p.amount > 0
    union all
    select 'product'::text, 2, pr.sort_order, pr.id, pr.name, pr.description,
      pr.amount, pr.currency, null::text, pr.stripe_price_id
    from tollgate.products pr
    where pr.active
  ) c
  order by c.source_order, c.sort_order, c.source_id;
$$;

comment on function tollgate_private.stripe_catalog() is
  E'What npm run stripe:sync must have at Stripe: every active paid plan (source plan, a recurring price per interval) and every active product (source product, a one-time price per unit: interval null), with amount, currency and current Stripe price.';

revoke all on function tollgate_private.stripe_catalog() from public, anon, authenticated, service_role;
