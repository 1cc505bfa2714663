create function tollgate_private.apply_purchase(
  provider text,
  provider_checkout_id text,
  user_id uuid,
  payment_id text,
  amount_paid bigint,
  currency text,
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
  v_checkout tollgate_private.provider_refs;
  v_checkout_id uuid;
  v_product tollgate.products;
  v_quantity integer;
  v_amount bigint;
  v_currency text;
  v_purchase tollgate.purchases;
  v_grant tollgate.credit_balances;
  v_why text;
begin
  -- GUARD: the checkout's row is locked until commit, so the webhook and verify-payment (or two
  -- deliveries) queue here and the second finds the purchase; checkout_id unique backs it.
  select r.* into v_checkout
  from tollgate_private.provider_refs r
  where r.provider = apply_purchase.provider
    and r.object_type = case apply_purchase.provider when 'stripe' then 'checkout_session' else 'order' end
    and r.provider_id = apply_purchase.provider_checkout_id
  for update;
  if v_checkout.provider_id is null or v_checkout.details ->> 'kind' is distinct from 'purchase' then
    if apply_purchase.user_id is not null then
      perform tollgate_private.raise_error('NOTFD',
        format('Unknown product checkout %s', apply_purchase.provider_checkout_id));
    end if;
    return jsonb_build_object('outcome', 'unlinked',
      'error', format('checkout %s is no product checkout of Tollgate', apply_purchase.provider_checkout_id));
  end if;
  if apply_purchase.user_id is not null and v_checkout.user_id is distinct from apply_purchase.user_id then
    perform tollgate_private.raise_error('NOTYR', 'This checkout is not yours');
  end if;
  v_checkout_id := (v_checkout.details ->> 'checkout_id')::uuid;

  select p.* into v_purchase from tollgate.purchases p where p.checkout_id = v_checkout_id;
  if v_purchase.id is not null then
    return jsonb_build_object('outcome', 'duplicate', 'purchase_id', v_purchase.id, 'user_id', v_purchase.user_id);
  end if;

  v_amount := (v_checkout.details ->> 'amount')::bigint;
  v_currency := v_checkout.details ->> 'currency';
  v_quantity := (v_checkout.details ->> 'quantity')::integer;
  -- What the provider took must be what we asked for: anything else grants nothing and is left,
  -- audited, for an operator (refund it or grant by hand); verify-payment answers PAYMM.
  if apply_purchase.amount_paid is distinct from v_amount or lower(apply_purchase.currency) is distinct from v_currency then
    v_why := format('paid %s %s, checkout %s asked %s %s', apply_purchase.amount_paid, lower(apply_purchase.currency),
      v_checkout.provider_id, v_amount, v_currency);
    if apply_purchase.user_id is not null then
      perform tollgate_private.raise_error('PAYMM', 'The payment does not match the checkout', detail => v_why);
    end if;
    if v_checkout.details ->> 'state' is distinct from 'mismatch' then
      update tollgate_private.provider_refs r
      set details = r.details || jsonb_build_object('state', 'mismatch', 'payment_id', apply_purchase.payment_id,
            'amount_paid', apply_purchase.amount_paid)
      where r.provider = v_checkout.provider and r.object_type = v_checkout.object_type
        and r.provider_id = v_checkout.provider_id;
      insert into tollgate_private.audit_log (
        table_name, record_id, user_id, action, old_values, new_values, actor_user_id, actor_role, reason)
      values (
        'purchases', v_checkout_id, v_checkout.user_id, 'insert', null,
        jsonb_build_object('state', 'mismatch', 'product_id', v_checkout.details ->> 'product_id',
          'payment_id', apply_purchase.payment_id, 'amount_paid', apply_purchase.amount_paid,
          'currency', lower(apply_purchase.currency), 'expected_amount', v_amount, 'expected_currency', v_currency),
        tollgate_private.caller_id(), tollgate_private.caller_role(),
        format('%s:%s payment mismatch: %s; nothing granted, refund it or grant it',
          apply_purchase.provider, apply_purchase.source, v_why));
    end if;
    -- unlinked: the webhook ledger's word for a payment no Tollgate row took (its error says why).
    return jsonb_build_object('outcome', 'unlinked', 'mismatch', true, 'user_id', v_checkout.user_id, 'error', v_why);
  end if;

  select p.* into v_product from tollgate.products p where p.id = v_checkout.details ->> 'product_id';

  insert into tollgate.purchases (
    user_id, product_id, quantity, provider, status, currency, amount_paid, coupon_code, checkout_id, paid_at)
  values (
    v_checkout.user_id, v_product.id, v_quantity, apply_purchase.provider, 'paid', v_currency,
    apply_purchase.amount_paid, v_checkout.details ->> 'coupon_code', v_checkout_id, apply_purchase.as_of)
  returning * into v_purchase;

  -- Paid is paid: the credits are granted even if the product was switched off since the checkout.
  v_grant := tollgate_private.grant_credits(
    v_purchase.user_id, v_product.metric, v_product.credits * v_purchase.quantity,
    case when v_product.credits_valid_days is not null
      then v_purchase.paid_at + make_interval(days => v_product.credits_valid_days) end,
    'purchase', v_purchase.id);

  -- The payment, linked to the purchase: refunds and disputes find what was paid through it (a
  -- Stripe checkout with nothing to pay has no payment).
  if apply_purchase.payment_id is not null then
    insert into tollgate_private.provider_refs (provider, object_type, provider_id, local_id, user_id, parent_id, details)
    values (
      apply_purchase.provider,
      case apply_purchase.provider when 'stripe' then 'payment_intent' else 'payment' end,
      apply_purchase.payment_id, v_purchase.id, v_purchase.user_id,
      case apply_purchase.provider when 'razorpay' then v_checkout.provider_id end,
      case apply_purchase.provider
        when 'stripe' then jsonb_build_object('purchase_id', v_purchase.id, 'kind', 'purchase')
        else jsonb_build_object('purchase_id', v_purchase.id, 'kind', 'purchase', 'order_id', v_checkout.provider_id) end)
    on conflict on constraint provider_refs_pkey do update
      set local_id = excluded.local_id,
          user_id = excluded.user_id,
          details = tollgate_private.provider_refs.details || excluded.details;
  end if;

  update tollgate_private.provider_refs r
  set local_id = v_purchase.id,
      details = r.details || jsonb_build_object('state', 'complete', 'payment_id', apply_purchase.payment_id),
      last_event_at = apply_purchase.as_of, last_event_id = apply_purchase.source
  where r.provider = v_checkout.provider and r.object_type = v_checkout.object_type
    and r.provider_id = v_checkout.provider_id;

  perform tollgate_private.settle_coupon(v_checkout_id::text, true);

  perform tollgate_private.notify(
    v_purchase.user_id, 'purchase_succeeded', 'purchase_succeeded:' || v_purchase.id::text,
    format('Thank you for buying %s', v_product.name),
    format('%s x %s: %s %s credits added to your account.', v_purchase.quantity, v_product.name,
      v_product.credits * v_purchase.quantity, v_product.metric),
    jsonb_strip_nulls(jsonb_build_object('purchase_id', v_purchase.id, 'product_id', v_product.id,
      'product_name', v_product.name, 'quantity', v_purchase.quantity,
      'amount', v_purchase.amount_paid, 'currency', v_purchase.currency,
      'metric', v_product.metric, 'credits', v_product.credits * v_purchase.quantity,
      'credits_expire_at', v_grant.expires_at)));

  return jsonb_build_object('outcome', 'applied', 'purchase_id', v_purchase.id, 'user_id', v_purchase.user_id);
end;
$$;

comment on function tollgate_private.apply_purchase(text, text, uuid, text, bigint, text, text, timestamptz) is
  E'Applies a paid product checkout, once, in one transaction: the purchase (status paid, amount_paid as the provider took it), its credits (grant_credits: credits x quantity, expiring credits_valid_days after paid_at), the payment''s provider ref (Stripe payment_intent or Razorpay payment, local_id = the purchase), the coupon settlement and a purchase_succeeded notification. A second call for the same checkout is a no-op (outcome duplicate). A payment that differs from the recorded amount or currency grants nothing: verify-payment (user_id given) gets PAYMM, a webhook outcome unlinked with mismatch true, the checkout marked and audited. user_id (verify-payment) must own the checkout (NOTYR).';

revoke all on function tollgate_private.apply_purchase(text, text, uuid, text, bigint, text, text, timestamptz) from public, anon, authenticated, service_role;
