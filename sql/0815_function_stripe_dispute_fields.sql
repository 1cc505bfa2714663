-- plpgsql for the reason in 0800_function_unix_time.sql. One place knows Stripe's dispute shape
-- (the same in every API version Tollgate reads).
create function tollgate_private.stripe_dispute_fields(
  dispute jsonb,
  out id text,
  out payment_intent text,
  out charge text,
  out amount bigint,
  out currency text,
  out status text,
  out reason text
)
returns record
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
  v_dispute jsonb := stripe_dispute_fields.dispute;
  v_value jsonb;
begin
  stripe_dispute_fields.id := v_dispute ->> 'id';
  v_value := v_dispute -> 'payment_intent';
  stripe_dispute_fields.payment_intent := case jsonb_typeof(v_value)
    when 'string' then v_value #>> '{}' when 'object' then v_value ->> 'id' end;
  v_value := v_dispute -> 'charge';
  stripe_dispute_fields.charge := case jsonb_typeof(v_value)
    when 'string' then v_value #>> '{}' when 'object' then v_value ->> 'id' end;
  v_value := v_dispute -> 'amount';
  stripe_dispute_fields.amount := case when jsonb_typeof(v_value) = 'number' then greatest((v_value #>> '{}')::bigint, 0) end;
  stripe_dispute_fields.currency := lower(v_dispute ->> 'currency');
  stripe_dispute_fields.status := v_dispute ->> 'status';
  stripe_dispute_fields.reason := v_dispute ->> 'reason';
end;
$$;

comment on function tollgate_private.stripe_dispute_fields(jsonb) is
  E'The fields Tollgate reads from a Stripe dispute object (du_... or dp_...): its id, the payment intent and charge disputed (ids, expanded or not), amount (minor units, never below 0), lower-case currency, status (warning_needs_response, warning_under_review, warning_closed, needs_response, under_review, won, lost) and reason. Nulls for missing fields; checks nothing.';

revoke all on function tollgate_private.stripe_dispute_fields(jsonb) from public, anon, authenticated, service_role;
