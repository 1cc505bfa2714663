create function tollgate_private.apply_stripe_charge(charge jsonb, event_at timestamptz, event_id text)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  -- Decoded once (0812): every field below is read from here.
  v_charge record := tollgate_private.stripe_charge_fields(apply_stripe_charge.charge);
  v_payment_intent text := v_charge.payment_intent;
  v_payment tollgate_private.provider_refs;
  v_invoice_id uuid;
  v_refund jsonb;
  v_fields record;
  v_reason text := 'stripe:' || apply_stripe_charge.event_id;
begin
  if v_charge.id is null or v_charge.id !~ '^(ch|py)_' then
    raise exception 'Not a Stripe charge object' using errcode = 'BADEV';
  end if;
  if v_payment_intent is null then
    select r.parent_id into v_payment_intent
    from tollgate_private.provider_refs r
    where r.provider = 'stripe' and r.object_type = 'charge' and r.provider_id = v_charge.id;
  end if;
  -- Before basil a charge names the invoice it paid: link its payment intent when the invoice
  -- events did not (the ref says kind invoice, as link_stripe_invoice_payment writes it).
  if v_payment_intent is not null and v_charge.invoice is not null then
    select r.local_id into v_invoice_id
    from tollgate_private.provider_refs r
    where r.provider = 'stripe' and r.object_type = 'invoice' and r.provider_id = v_charge.invoice;
    if v_invoice_id is not null then
      perform tollgate_private.link_stripe_invoice_payment(v_payment_intent, v_invoice_id);
    end if;
  end if;

  select r.* into v_payment
  from tollgate_private.provider_refs r
  where r.provider = 'stripe' and r.object_type = 'payment_intent' and r.provider_id = v_payment_intent
  for update;
  if v_payment.local_id is null then
    return jsonb_build_object('outcome', 'unlinked',
      'error', format('charge %s: no Tollgate invoice or purchase paid by %s', v_charge.id, coalesce(v_payment_intent, '(no payment intent)')));
  end if;

  -- The charge's own amount_refunded counts when its refunds are not in the payload (2022-11-15 on);
  -- an older snapshot of the charge changes nothing.
  if tollgate_private.advance_watermark('stripe', 'charge', v_charge.id, apply_stripe_charge.event_at,
      apply_stripe_charge.event_id, v_payment.local_id, v_payment.user_id, v_payment_intent) then
    update tollgate_private.provider_refs r
    set details = r.details || jsonb_build_object('amount_refunded', coalesce(v_charge.amount_refunded, 0))
    where r.provider = 'stripe' and r.object_type = 'charge' and r.provider_id = v_charge.id;
  end if;
  -- Older API versions embed the refunds: each is recorded by its id, as refund.* events record it.
  for v_refund in select x from jsonb_array_elements(v_charge.refunds) x loop
    v_fields := tollgate_private.stripe_refund_fields(v_refund);
    if v_fields.id is not null and v_fields.amount is not null and v_fields.status is not null then
      perform tollgate_private.record_refund('stripe', v_fields.id, v_payment_intent, v_fields.amount,
        coalesce(v_fields.currency, v_charge.currency), v_fields.status, apply_stripe_charge.event_at,
        apply_stripe_charge.event_id, v_reason);
    end if;
  end loop;
  return tollgate_private.settle_payment_refunds('stripe', v_payment_intent, v_reason);
end;
$$;

comment on function tollgate_private.apply_stripe_charge(jsonb, timestamptz, text) is
  E'Applies a Stripe charge snapshot (charge.refunded and other charge.* events, any API version): remembers its amount_refunded (unless a newer snapshot was applied) and records the refunds it embeds by their ids, then settles the invoice or purchase its payment intent paid. Before basil a charge naming its invoice also links that payment intent to the invoice. Outcome applied or unlinked.';

revoke all on function tollgate_private.apply_stripe_charge(jsonb, timestamptz, text) from public, anon, authenticated, service_role;
