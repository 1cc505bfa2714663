-- plpgsql for the reason in 0800_function_unix_time.sql. One place knows Stripe's refund shape;
-- it is the same in every API version Tollgate reads (payment_intent and charge are ids, or the
-- expanded objects with their ids).
create function tollgate_private.stripe_refund_fields(
  refund jsonb,
  out id text,
  out payment_intent text,
  out charge text,
  out amount bigint,
  out currency text,
  out status text,
  out created timestamptz
)
returns record
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
  v_refund jsonb := stripe_refund_fields.refund;
  v_value jsonb;
begin
  stripe_refund_fields.id := v_refund ->> 'id';
  v_value := v_refund -> 'payment_intent';
  stripe_refund_fields.payment_intent := case jsonb_typeof(v_value)
    when 'string' then v_value #>> '{}' when 'object' then v_value ->> 'id' end;
  v_value := v_refund -> 'charge';
  stripe_refund_fields.charge := case jsonb_typeof(v_value)
    when 'string' then v_value #>> '{}' when 'object' then v_value ->> 'id' end;
  v_value := v_refund -> 'amount';
  stripe_refund_fields.amount := case when jsonb_typeof(v_value) = 'number' then greatest((v_value #>> '{}')::bigint, 0) end;
  stripe_refund_fields.currency := lower(v_refund ->> 'currency');
  stripe_refund_fields.status := v_refund ->> 'status';
  v_value := v_refund -> 'created';
  stripe_refund_fields.created := case
    when jsonb_typeof(v_value) = 'number' then to_timestamp(v_value::text::double precision) end;
end;
$$;

comment on function tollgate_private.stripe_refund_fields(jsonb) is
  E'The fields Tollgate reads from a Stripe refund object (re_...): its id, the payment intent and charge it refunds (ids, expanded or not), amount (minor units, never below 0), lower-case currency, status (pending, requires_action, succeeded, failed, canceled) and creation time. Nulls for missing fields; checks nothing.';

revoke all on function tollgate_private.stripe_refund_fields(jsonb) from public, anon, authenticated, service_role;
