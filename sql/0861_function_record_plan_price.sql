create function tollgate_private.record_plan_price(
  plan_id text,
  price_id text,
  amount bigint,
  currency text,
  "interval" text
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
  from tollgate.plans p
  where p.id = record_plan_price.plan_id
  for update;
  if not found then
    raise exception 'No plan %', record_plan_price.plan_id using errcode = 'NOPLN';
  end if;

  -- GUARD: already the plan's recorded current price: a rerun changes nothing.
  if v_current is not distinct from record_plan_price.price_id and exists (
    select 1 from tollgate_private.plan_prices pp
    where pp.price_id = record_plan_price.price_id and pp.plan_id = record_plan_price.plan_id and pp.active
  ) then
    return false;
  end if;

  -- A Stripe price bills exactly one thing: never a product's price as well.
  if exists (select 1 from tollgate_private.product_prices pp where pp.price_id = record_plan_price.price_id) then
    raise exception 'Price % belongs to a product', record_plan_price.price_id using errcode = 'TGCFG', hint = 'A Stripe price bills exactly one plan or product.';
  end if;

  -- The price joins the history (or is made active again); the plan's other prices are archived
  -- but stay mapped, so their subscribers still find the plan.
  insert into tollgate_private.plan_prices as pp (price_id, plan_id, provider, amount, currency, "interval", active)
  values (record_plan_price.price_id, record_plan_price.plan_id, 'stripe', record_plan_price.amount,
    record_plan_price.currency, record_plan_price."interval", true)
  on conflict on constraint plan_prices_pkey do update set active = true
  where pp.plan_id = excluded.plan_id;
  if not found then
    raise exception 'Price % belongs to another plan', record_plan_price.price_id using errcode = 'TGCFG', hint = 'A Stripe price bills exactly one plan.';
  end if;
  update tollgate_private.plan_prices pp
  set active = false
  where pp.plan_id = record_plan_price.plan_id and pp.price_id <> record_plan_price.price_id and pp.active;
  update tollgate.plans p
  set stripe_price_id = record_plan_price.price_id
  where p.id = record_plan_price.plan_id;
  return true;
end;
$$;

comment on function tollgate_private.record_plan_price(text, text, bigint, text, text) is
  E'Makes a Stripe price the current price of a plan in one transaction: records it in plan_prices, marks the plan''s older prices archived (still mapped) and sets plans.stripe_price_id. Returns false when it already was.';

revoke all on function tollgate_private.record_plan_price(text, text, bigint, text, text) from public, anon, authenticated, service_role;
