-- plpgsql for the reason in 0800_function_unix_time.sql: called on every invoice event. One place
-- knows Stripe's invoice shape, for every API version; the apply path reads its fields.
create function tollgate_private.stripe_invoice_fields(
  invoice jsonb,
  out id text,
  out customer text,
  out subscription text,
  out metadata_user uuid,
  out status text,
  out number text,
  out currency text,
  out amount_due bigint,
  out amount_paid bigint,
  out period_start timestamptz,
  out period_end timestamptz,
  out hosted_invoice_url text,
  out invoice_pdf text,
  out paid_at timestamptz,
  out created timestamptz
)
returns record
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
  v_line jsonb := stripe_invoice_fields.invoice #> '{lines,data,0}';
begin
  stripe_invoice_fields.id := stripe_invoice_fields.invoice ->> 'id';
  stripe_invoice_fields.customer := tollgate_private.provider_id(stripe_invoice_fields.invoice -> 'customer');
  -- Since basil an invoice names its subscription (and that one's metadata) under parent; before,
  -- at the top level.
  stripe_invoice_fields.subscription := coalesce(
    tollgate_private.provider_id(stripe_invoice_fields.invoice #> '{parent,subscription_details,subscription}'),
    tollgate_private.provider_id(stripe_invoice_fields.invoice -> 'subscription'));
  stripe_invoice_fields.metadata_user := coalesce(
    tollgate_private.uuid_or_null(stripe_invoice_fields.invoice #>> '{parent,subscription_details,metadata,user_id}'),
    tollgate_private.uuid_or_null(stripe_invoice_fields.invoice #>> '{subscription_details,metadata,user_id}'));
  stripe_invoice_fields.status := stripe_invoice_fields.invoice ->> 'status';
  stripe_invoice_fields.number := stripe_invoice_fields.invoice ->> 'number';
  stripe_invoice_fields.currency := lower(stripe_invoice_fields.invoice ->> 'currency');
  stripe_invoice_fields.amount_due := greatest(coalesce((stripe_invoice_fields.invoice ->> 'amount_due')::bigint, 0), 0);
  stripe_invoice_fields.amount_paid := greatest(coalesce((stripe_invoice_fields.invoice ->> 'amount_paid')::bigint, 0), 0);
  -- The service period is on the lines; the invoice's own period_* are when items were added.
  stripe_invoice_fields.period_start := coalesce(tollgate_private.unix_time(v_line #> '{period,start}'),
    tollgate_private.unix_time(stripe_invoice_fields.invoice -> 'period_start'));
  stripe_invoice_fields.period_end := coalesce(tollgate_private.unix_time(v_line #> '{period,end}'),
    tollgate_private.unix_time(stripe_invoice_fields.invoice -> 'period_end'));
  stripe_invoice_fields.hosted_invoice_url := stripe_invoice_fields.invoice ->> 'hosted_invoice_url';
  stripe_invoice_fields.invoice_pdf := stripe_invoice_fields.invoice ->> 'invoice_pdf';
  stripe_invoice_fields.paid_at := tollgate_private.unix_time(stripe_invoice_fields.invoice #> '{status_transitions,paid_at}');
  stripe_invoice_fields.created := tollgate_private.unix_time(stripe_invoice_fields.invoice -> 'created');
end;
$$;

comment on function tollgate_private.stripe_invoice_fields(jsonb) is
  E'The fields Tollgate reads from a Stripe invoice object, of any API version: ids, its subscription and that subscription''s metadata.user_id (under parent since basil, at the top level before; null unless a uuid), status, number, lower-case currency, amounts (never below 0), the service period (from the first line, else the invoice''s own), links, paid and creation times. Nulls for missing fields; checks nothing.';

revoke all on function tollgate_private.stripe_invoice_fields(jsonb) from public, anon, authenticated, service_role;
