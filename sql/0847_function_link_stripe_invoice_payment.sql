create function tollgate_private.link_stripe_invoice_payment(payment_intent text, invoice_id uuid)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  -- Written once: a payment intent pays one invoice (a purchase's ref is never taken over).
  insert into tollgate_private.provider_refs (provider, object_type, provider_id, local_id, user_id, details)
  select 'stripe', 'payment_intent', link_stripe_invoice_payment.payment_intent, i.id, i.user_id,
    jsonb_build_object('kind', 'invoice', 'invoice_id', i.id)
  from tollgate.invoices i
  where i.id = link_stripe_invoice_payment.invoice_id and link_stripe_invoice_payment.payment_intent is not null
  on conflict on constraint provider_refs_pkey do nothing;
end;
$$;

comment on function tollgate_private.link_stripe_invoice_payment(text, uuid) is
  E'Records that a Stripe payment intent (pi_...) paid a Tollgate invoice: a provider_refs row (kind invoice, local_id the invoice), so refunds and disputes of that payment find the invoice. Once; an existing ref is kept.';

revoke all on function tollgate_private.link_stripe_invoice_payment(text, uuid) from public, anon, authenticated, service_role;
