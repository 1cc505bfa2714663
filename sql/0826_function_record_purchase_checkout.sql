create function tollgate_private.record_purchase_checkout(
  user_id uuid,
  provider text,
  provider_checkout_id text,
  checkout_id uuid,
  product_id text,
  quantity integer,
  amount bigint,
  currency text,
  extra jsonb default '{}'::jsonb
)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  -- The session or order is remembered as a plan checkout's is (customer, coupon), with no plan.
  perform tollgate_private.record_checkout(
    record_purchase_checkout.user_id, record_purchase_checkout.provider,
    record_purchase_checkout.provider_checkout_id, record_purchase_checkout.checkout_id, null,
    record_purchase_checkout.amount, record_purchase_checkout.currency, record_purchase_checkout.extra);
  -- What was asked for: the payment is checked against it, and its credits granted from it.
  update tollgate_private.provider_refs r
  set details = r.details - 'plan_id' || jsonb_build_object(
        'kind', 'purchase',
        'product_id', record_purchase_checkout.product_id,
        'quantity', record_purchase_checkout.quantity,
        'coupon_code', record_purchase_checkout.extra ->> 'coupon_code')
  where r.provider = record_purchase_checkout.provider
    and r.object_type = case record_purchase_checkout.provider when 'stripe' then 'checkout_session' else 'order' end
    and r.provider_id = record_purchase_checkout.provider_checkout_id
    and r.user_id = record_purchase_checkout.user_id;
end;
$$;

comment on function tollgate_private.record_purchase_checkout(uuid, text, text, uuid, text, integer, bigint, text, jsonb) is
  E'Remembers a product checkout created at the provider (Stripe payment-mode session or Razorpay order) as record_checkout does, its details saying kind purchase, the product, quantity, amount, currency and coupon_code it must be paid with.';

revoke all on function tollgate_private.record_purchase_checkout(uuid, text, text, uuid, text, integer, bigint, text, jsonb) from public, anon, authenticated, service_role;
