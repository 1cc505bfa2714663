-- plpgsql for the reason in 0800_function_unix_time.sql: called on every checkout event. One place
-- knows Stripe's Checkout Session shape; the webhook and verify-payment read its fields.
-- Conversions are inline for the reason in 0803_function_stripe_subscription_fields.sql.
create function tollgate_private.stripe_checkout_fields(
  session jsonb,
  out id text,
  out mode text,
  out status text,
  out payment_status text,
  out customer text,
  out subscription text,
  out client_reference_user uuid,
  out metadata_user uuid,
  out checkout_id text
)
returns record
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
  v_session jsonb := stripe_checkout_fields.session;
  v_value jsonb;
  v_text text;
begin
  stripe_checkout_fields.id := v_session ->> 'id';
  stripe_checkout_fields.mode := v_session ->> 'mode';
  stripe_checkout_fields.status := v_session ->> 'status';
  stripe_checkout_fields.payment_status := v_session ->> 'payment_status';
  stripe_checkout_fields.checkout_id := v_session #>> '{metadata,tollgate_checkout_id}';
  -- Expandable fields are an id string or the expanded object with its id.
  v_value := v_session -> 'customer';
  stripe_checkout_fields.customer := case jsonb_typeof(v_value)
    when 'string' then v_value #>> '{}' when 'object' then v_value ->> 'id' end;
  v_value := v_session -> 'subscription';
  stripe_checkout_fields.subscription := case jsonb_typeof(v_value)
    when 'string' then v_value #>> '{}' when 'object' then v_value ->> 'id' end;
  -- Tollgate's checkout sets both to the buyer's id; either is untrusted text until it is a uuid.
  v_text := v_session ->> 'client_reference_id';
  stripe_checkout_fields.client_reference_user := case
    when v_text ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' then v_text::uuid end;
  v_text := v_session #>> '{metadata,user_id}';
  stripe_checkout_fields.metadata_user := case
    when v_text ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' then v_text::uuid end;
end;
$$;

comment on function tollgate_private.stripe_checkout_fields(jsonb) is
  E'The fields Tollgate reads from a Stripe Checkout Session: ids (expanded or not), mode, status, payment status, customer and subscription ids, the buyer from client_reference_id and from metadata.user_id (each null unless a uuid) and Tollgate''s checkout id (metadata.tollgate_checkout_id). Nulls for missing fields; checks nothing.';

revoke all on function tollgate_private.stripe_checkout_fields(jsonb) from public, anon, authenticated, service_role;
