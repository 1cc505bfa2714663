create function tollgate_private.record_product_price(
  product_id text,
  price_id text,
  amount bigint,
  currency text
)
returns boolean
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_current text;
begin
  select p.stripe_price_id into v_current
  from tollgate.products p
  where p.id = record_product_price.product_id
  for update;
  if not found then
    raise exception 'No product %', record_product_price.product_id using errcode = 'NOTFD';
  end if;

  -- GUARD: already the product's recorded current price: a rerun changes nothing.
  if v_current is not distinct from record_product_price.price_id and exists (
    select 1 from tollgate_private.product_prices pp
    where pp.price_id = record_product_price.price_id and pp.product_id = record_product_price.product_id and pp.active
  ) then
    return false;
  end if;

  -- A Stripe price sells exactly one thing: never a plan's price as well.
  if exists (select 1 from tollgate_private.plan_prices pp where pp.price_id = record_product_price.price_id) then
    raise exception 'Price % belongs to a plan', record_product_price.price_id using errcode = 'TGCFG', hint = 'A Stripe price bills exactly one plan or product.';
  end if;

  -- The product's previous price joins the history too (the seeded placeholder has no row yet).
  insert into tollgate_private.product_prices (price_id, product_id, provider, amount, currency, active)
  select p.stripe_price_id, p.id, 'stripe', p.amount, p.currency, false
  from tollgate.products p
  where p.id = record_product_price.product_id and p.stripe_price_id is not null
    and p.stripe_price_id <> record_product_price.price_id
  on conflict on constraint product_prices_pkey do nothing;

  insert into tollgate_private.product_prices as pp (price_id, product_id, provider, amount, currency, active)
  values (record_product_price.price_id, record_product_price.product_id, 'stripe', record_product_price.amount,
    record_product_price.currency, true)
  on conflict on constraint product_prices_pkey do update set active = true
  where pp.product_id = excluded.product_id;
  if not found then
    raise exception 'Price % belongs to another product', record_product_price.price_id using errcode = 'TGCFG', hint = 'A Stripe price bills exactly one plan or product.';
  end if;
  update tollgate_private.product_prices pp
  set active = false
  where pp.product_id = record_product_price.product_id and pp.price_id <> record_product_price.price_id and pp.active;
  update tollgate.products p
  set stripe_price_id = record_product_price.price_id
  where p.id = record_product_price.product_id;
  return true;
end;
$$;

comment on function tollgate_private.record_product_price(text, text, bigint, text) is
  E'Makes a Stripe one-time price the current price of a product in one transaction: records it (and the price it replaces) in product_prices, marks the product''s older prices archived (still mapped) and sets products.stripe_price_id. Returns false when it already was.';

revoke all on function tollgate_private.record_product_price(text, text, bigint, text) from public, anon, authenticated, service_role;
