-- plpgsql for the reason in 0800_function_unix_time.sql: called on every checkout event. One place
-- knows Stripe's Checkout Session shape; the webhook and verify-payment read its fields.
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
begin
  stripe_checkout_fields.id := stripe_checkout_fields.session ->> 'id';
  stripe_checkout_fields.mode := stripe_checkout_fields.session ->> 'mode';
  stripe_checkout_fields.status := stripe_checkout_fields.session ->> 'status';
  stripe_checkout_fields.payment_status := stripe_checkout_fields.session ->> 'payment_status';
  stripe_checkout_fields.customer := tollgate_private.provider_id(stripe_checkout_fields.session -> 'customer');
  stripe_checkout_fields.subscription := tollgate_private.provider_id(stripe_checkout_fields.session -> 'subscription');
  -- Tollgate's checkout sets both to the buyer's id; either is untrusted text until it is a uuid.
  stripe_checkout_fields.client_reference_user :=
    tollgate_private.uuid_or_null(stripe_checkout_fields.session ->> 'client_reference_id');
  stripe_checkout_fields.metadata_user := tollgate_private.uuid_or_null(stripe_checkout_fields.session #>> '{metadata,user_id}');
  stripe_checkout_fields.checkout_id := stripe_checkout_fields.session #>> '{metadata,tollgate_checkout_id}';
end;
$$;

comment on function tollgate_private.stripe_checkout_fields(jsonb) is
  E'The fields Tollgate reads from a Stripe Checkout Session: ids, mode, status, payment status, customer and subscription ids, the buyer from client_reference_id and from metadata.user_id (each null unless a uuid) and Tollgate''s checkout id (metadata.tollgate_checkout_id). Nulls for missing fields; checks nothing.';

revoke all on function tollgate_private.stripe_checkout_fields(jsonb) from public, anon, authenticated, service_role;
