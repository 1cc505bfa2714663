-- plpgsql for the reason in 0800_function_unix_time.sql. Beside stripe_invoice_fields (0804), so the
-- invoice decoder every invoice event runs keeps its shape.
create function tollgate_private.stripe_invoice_payment_intent(invoice jsonb)
returns text
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
  v_value jsonb := stripe_invoice_payment_intent.invoice -> 'payment_intent';
  v_payment jsonb;
begin
  -- Before basil: the invoice's own payment_intent (an id or the expanded object).
  if jsonb_typeof(v_value) = 'string' then
    return v_value #>> '{}';
  elsif jsonb_typeof(v_value) = 'object' then
    return v_value ->> 'id';
  end if;
  -- Since basil: the paid entry of invoice.payments, when the payload includes that list.
  for v_payment in
    select p from jsonb_array_elements(case
      when jsonb_typeof(stripe_invoice_payment_intent.invoice #> '{payments,data}') = 'array'
        then stripe_invoice_payment_intent.invoice #> '{payments,data}' else '[]'::jsonb end) p
  loop
    v_value := v_payment #> '{payment,payment_intent}';
    if v_payment ->> 'status' = 'paid' and jsonb_typeof(v_value) in ('string', 'object') then
      return case jsonb_typeof(v_value) when 'string' then v_value #>> '{}' else v_value ->> 'id' end;
    end if;
  end loop;
  return null;
end;
$$;

comment on function tollgate_private.stripe_invoice_payment_intent(jsonb) is
  E'The payment intent (pi_...) that paid a Stripe invoice object or an invoice_payment object''s invoice: invoice.payment_intent before API 2025-03-31.basil, the paid entry of invoice.payments since (when the payload includes it); null when neither says.';

revoke all on function tollgate_private.stripe_invoice_payment_intent(jsonb) from public, anon, authenticated, service_role;
