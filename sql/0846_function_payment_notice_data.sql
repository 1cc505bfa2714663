create function tollgate_private.payment_notice_data(provider text, payment_id text)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_payment tollgate_private.provider_refs;
  v_data jsonb;
begin
  select r.* into v_payment
  from tollgate_private.provider_refs r
  where r.provider = payment_notice_data.provider
    and r.object_type = case payment_notice_data.provider when 'stripe' then 'payment_intent' else 'payment' end
    and r.provider_id = payment_notice_data.payment_id;
  select jsonb_build_object('purchase_id', p.id, 'product_id', p.product_id, 'product_name', pr.name,
      'currency', p.currency, 'user_id', p.user_id)
  into v_data
  from tollgate.purchases p join tollgate.products pr on pr.id = p.product_id
  where p.id = v_payment.local_id;
  if v_data is null then
    select jsonb_build_object('invoice_id', i.id, 'number', i.number, 'plan_id', pl.id, 'plan_name', pl.name,
        'currency', i.currency, 'hosted_invoice_url', i.hosted_invoice_url, 'user_id', i.user_id)
    into v_data
    from tollgate.invoices i
    left join tollgate.subscriptions s on s.id = i.subscription_id
    left join tollgate.plans pl on pl.id = s.plan_id
    where i.id = v_payment.local_id;
  end if;
  return jsonb_strip_nulls(coalesce(v_data, '{}'::jsonb));
end;
$$;

comment on function tollgate_private.payment_notice_data(text, text) is
  E'What a refund or dispute notification says about the payment (Stripe pi_..., Razorpay pay_...): the purchase and product, or the invoice and its plan, their currency and user_id; {} when the payment is not Tollgate''s.';

revoke all on function tollgate_private.payment_notice_data(text, text) from public, anon, authenticated, service_role;
