create function tollgate_private.plan_of_stripe_price(price_id text)
returns text
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_plan_id text;
begin
  -- The current price first (one unique index), then the price history: a subscriber who kept an
  -- archived price after stripe:sync moved the plan to a new one is still on that plan.
  select p.id into v_plan_id from tollgate.plans p where p.stripe_price_id = plan_of_stripe_price.price_id;
  if v_plan_id is null then
    select pp.plan_id into v_plan_id
    from tollgate_private.plan_prices pp
    where pp.provider = 'stripe' and pp.price_id = plan_of_stripe_price.price_id;
  end if;
  return v_plan_id;
end;
$$;

comment on function tollgate_private.plan_of_stripe_price(text) is
  E'The plan a Stripe price bills: the plan whose current stripe_price_id it is, else the plan it belonged to before (plan_prices); null when none.';

revoke all on function tollgate_private.plan_of_stripe_price(text) from public, anon, authenticated, service_role;
