create function tollgate_private.prepare_purchase(
  user_id uuid,
  product_id text,
  quantity integer,
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
  v_product tollgate.products;
  v_plan_id text;
  v_checkout_id uuid := gen_random_uuid();
  v_gross bigint;
  v_member_percent integer;
  v_member_off bigint := 0;
  v_coupon jsonb;
  v_coupon_off bigint := 0;
  v_coupon_plans text[];
  v_amount bigint;
begin
  if not exists (select from auth.users u where u.id = prepare_purchase.user_id) then
    perform tollgate_private.raise_error('NOUSR', format('Unknown user %s', prepare_purchase.user_id));
  end if;
  if prepare_purchase.quantity is null or prepare_purchase.quantity not between 1 and 1000 then
    perform tollgate_private.raise_error('BADRQ', 'quantity must be a whole number from 1 to 1000',
      detail => format('quantity %s', coalesce(prepare_purchase.quantity::text, 'null')));
  end if;
  select p.* into v_product from tollgate.products p where p.id = prepare_purchase.product_id;
  if v_product.id is null then
    perform tollgate_private.raise_error('NOPRD', format('Unknown product %s', prepare_purchase.product_id));
  end if;
  if not v_product.active then
    perform tollgate_private.raise_error('PRINA', format('Product %s cannot be bought any more', v_product.id));
  end if;

  -- Rounding: every discount is taken off the whole total (unit amount x quantity), one after the
  -- other, member discount first, each rounded half up to a minor unit, so the total is what the
  -- user is shown and what the provider must take (never a sum of rounded unit prices).
  v_gross := v_product.amount * prepare_purchase.quantity;
  -- The plan the user is on now (a lapsed or unpaid subscription is free), as usage counts it.
  v_plan_id := (tollgate_private.entitlement(prepare_purchase.user_id, prepare_purchase.as_of)).plan_id;
  select d.percent_off into v_member_percent
  from tollgate.member_discounts d
  where d.plan_id = v_plan_id and d.product_id = v_product.id;
  if v_member_percent is not null then
    v_member_off := round(v_gross * v_member_percent / 100.0)::bigint;
  end if;
  v_amount := v_gross - v_member_off;

  if prepare_purchase.coupon_code is not null then
    -- A coupon's plan_ids name the plans it discounts: a coupon limited to plans does not cover
    -- products; one without plan_ids applies to every plan and product.
    select c.plan_ids into v_coupon_plans
    from tollgate_private.coupons c where c.code = upper(btrim(prepare_purchase.coupon_code));
    if v_coupon_plans is not null then
      perform tollgate_private.raise_error('CPPLN',
        format('Coupon %s does not apply to product %s', upper(btrim(prepare_purchase.coupon_code)), v_product.id),
        detail => format('applies to %s', array_to_string(v_coupon_plans, ', ')));
    end if;
    -- The same reservation as a plan checkout (one use per account, max_uses never passed). The
    -- redemption records the plan the buyer is on; the purchase is found by its checkout id.
    v_coupon := tollgate_private.reserve_coupon(
      prepare_purchase.coupon_code, prepare_purchase.user_id, v_plan_id, prepare_purchase.provider,
      v_checkout_id::text, prepare_purchase.as_of);
    if v_coupon ->> 'amount_off' is not null and v_coupon ->> 'currency' <> v_product.currency then
      perform tollgate_private.raise_error('CPCUR',
        format('Coupon %s is in %s, the product in %s', v_coupon ->> 'code', v_coupon ->> 'currency', v_product.currency));
    end if;
    v_coupon_off := least(
      coalesce((v_coupon ->> 'amount_off')::bigint, 0)
        + coalesce(round(v_amount * (v_coupon ->> 'percent_off')::numeric / 100)::bigint, 0),
      v_amount);
    v_amount := v_amount - v_coupon_off;
  end if;

  return jsonb_build_object(
    'kind', 'purchase',
    'checkout_id', v_checkout_id,
    'product', jsonb_build_object('id', v_product.id, 'name', v_product.name, 'amount', v_product.amount,
      'currency', v_product.currency, 'metric', v_product.metric, 'credits', v_product.credits),
    'quantity', prepare_purchase.quantity,
    'plan_id', v_plan_id,
    'subtotal', v_gross,
    'member_discount', v_member_off,
    'coupon_discount', v_coupon_off,
    'amount', v_amount,
    'currency', v_product.currency,
    'coupon', v_coupon,
    'customer_id', (
      select c.provider_customer_id from tollgate_private.customers c
      where c.user_id = prepare_purchase.user_id and c.provider = prepare_purchase.provider)
  );
end;
$$;

comment on function tollgate_private.prepare_purchase(uuid, text, integer, text, text, timestamptz) is
  E'First step of a product checkout: checks the quantity (1-1000, BADRQ) and the product (NOPRD, PRINA), prices it (unit amount x quantity, minus the member discount of the plan the user is on now, minus the coupon; each discount taken off the whole total, rounded half up), reserves the coupon (only coupons without plan_ids apply to products, else CPPLN) and returns the checkout id, product, quantity, the amounts and the user''s provider customer.';

revoke all on function tollgate_private.prepare_purchase(uuid, text, integer, text, text, timestamptz) from public, anon, authenticated, service_role;
