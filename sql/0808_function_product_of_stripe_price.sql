create function tollgate_private.product_of_stripe_price(price_id text)
returns text
language sql
stable
security invoker
set search_path = ''
as $$
  -- The current price first (products.stripe_price_id is unique), then the price history.
  select coalesce(
    (select p.id from tollgate.products p where p.stripe_price_id = product_of_stripe_price.price_id),
    (select pp.product_id from tollgate_private.product_prices pp
     where pp.provider = 'stripe' and pp.price_id = product_of_stripe_price.price_id));
$$;

comment on function tollgate_private.product_of_stripe_price(text) is
  E'The product a Stripe price sells: the product whose current stripe_price_id it is, else the product it belonged to before (product_prices); null when none.';

revoke all on function tollgate_private.product_of_stripe_price(text) from public, anon, authenticated, service_role;
