-- plpgsql for the reason in 0800_function_unix_time.sql. One place knows Stripe's charge shape,
-- for every API version: before 2022-11-15 a charge embeds its refunds (refunds.data), since then
-- it does not, and only amount_refunded says how much was refunded.
create function tollgate_private.stripe_charge_fields(
  charge jsonb,
  out id text,
  out payment_intent text,
  out invoice text,
  out amount bigint,
  out amount_refunded bigint,
  out currency text,
  out refunds jsonb
)
returns record
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
  v_charge jsonb := stripe_charge_fields.charge;
  v_value jsonb;
begin
  stripe_charge_fields.id := v_charge ->> 'id';
  v_value := v_charge -> 'payment_intent';
  stripe_charge_fields.payment_intent := case jsonb_typeof(v_value)
    when 'string' then v_value #>> '{}' when 'object' then v_value ->> 'id' end;
  -- Gone from charges since basil; older versions name the invoice a charge paid.
  v_value := v_charge -> 'invoice';
  stripe_charge_fields.invoice := case jsonb_typeof(v_value)
    when 'string' then v_value #>> '{}' when 'object' then v_value ->> 'id' end;
  stripe_charge_fields.amount := greatest(coalesce((v_charge ->> 'amount')::bigint, 0), 0);
  v_value := v_charge -> 'amount_refunded';
  stripe_charge_fields.amount_refunded := case when jsonb_typeof(v_value) = 'number' then greatest((v_value #>> '{}')::bigint, 0) end;
  stripe_charge_fields.currency := lower(v_charge ->> 'currency');
  v_value := v_charge #> '{refunds,data}';
  stripe_charge_fields.refunds := case when jsonb_typeof(v_value) = 'array' then v_value else '[]'::jsonb end;
end;
$$;

comment on function tollgate_private.stripe_charge_fields(jsonb) is
  E'The fields Tollgate reads from a Stripe charge object (ch_...), of any API version: its id, payment intent and (before basil) invoice, amount, amount_refunded (null when absent), lower-case currency, and the refund objects it embeds (API versions before 2022-11-15; an empty array otherwise). Checks nothing.';

revoke all on function tollgate_private.stripe_charge_fields(jsonb) from public, anon, authenticated, service_role;
