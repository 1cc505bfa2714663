-- plpgsql for the reason in 0800_function_unix_time.sql: called on every invoice event. One place
-- knows Stripe's invoice shape, for every API version; the apply path reads its fields.
-- Conversions are inline for the reason in 0803_function_stripe_subscription_fields.sql.
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
  v_invoice jsonb := stripe_invoice_fields.invoice;
  v_line jsonb := v_invoice #> '{lines,data,0}';
  v_value jsonb;
  v_text text;
begin
  stripe_invoice_fields.id := v_invoice ->> 'id';
  stripe_invoice_fields.status := v_invoice ->> 'status';
  stripe_invoice_fields.number := v_invoice ->> 'number';
  stripe_invoice_fields.currency := lower(v_invoice ->> 'currency');
  stripe_invoice_fields.amount_due := greatest(coalesce((v_invoice ->> 'amount_due')::bigint, 0), 0);
  stripe_invoice_fields.amount_paid := greatest(coalesce((v_invoice ->> 'amount_paid')::bigint, 0), 0);
  stripe_invoice_fields.hosted_invoice_url := v_invoice ->> 'hosted_invoice_url';
  stripe_invoice_fields.invoice_pdf := v_invoice ->> 'invoice_pdf';
  -- Expandable fields are an id string or the expanded object with its id.
  v_value := v_invoice -> 'customer';
  stripe_invoice_fields.customer := case jsonb_typeof(v_value)
    when 'string' then v_value #>> '{}' when 'object' then v_value ->> 'id' end;
  -- Since basil an invoice names its subscription (and that one's metadata) under parent; before,
  -- at the top level.
  v_value := v_invoice #> '{parent,subscription_details,subscription}';
  stripe_invoice_fields.subscription := case jsonb_typeof(v_value)
    when 'string' then v_value #>> '{}' when 'object' then v_value ->> 'id' end;
  if stripe_invoice_fields.subscription is null then
    v_value := v_invoice -> 'subscription';
    stripe_invoice_fields.subscription := case jsonb_typeof(v_value)
      when 'string' then v_value #>> '{}' when 'object' then v_value ->> 'id' end;
  end if;
  -- Metadata is untrusted text: a user id only when it is a uuid.
  v_text := v_invoice #>> '{parent,subscription_details,metadata,user_id}';
  if v_text is null or v_text !~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' then
    v_text := v_invoice #>> '{subscription_details,metadata,user_id}';
    if v_text !~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' then
      v_text := null;
    end if;
  end if;
  stripe_invoice_fields.metadata_user := v_text::uuid;

  -- Times are Unix seconds as JSON numbers; anything else (null) is no time.
  -- The service period is on the lines; the invoice's own period_* are when items were added.
  v_value := v_line #> '{period,start}';
  if jsonb_typeof(v_value) is distinct from 'number' then
    v_value := v_invoice -> 'period_start';
  end if;
  stripe_invoice_fields.period_start := case
    when jsonb_typeof(v_value) = 'number' then to_timestamp(v_value::text::double precision) end;
  v_value := v_line #> '{period,end}';
  if jsonb_typeof(v_value) is distinct from 'number' then
    v_value := v_invoice -> 'period_end';
  end if;
  stripe_invoice_fields.period_end := case
    when jsonb_typeof(v_value) = 'number' then to_timestamp(v_value::text::double precision) end;
  v_value := v_invoice #> '{status_transitions,paid_at}';
  stripe_invoice_fields.paid_at := case
    when jsonb_typeof(v_value) = 'number' then to_timestamp(v_value::text::double precision) end;
  v_value := v_invoice -> 'created';
  stripe_invoice_fields.created := case
    when jsonb_typeof(v_value) = 'number' then to_timestamp(v_value::text::double precision) end;
end;
$$;

comment on function tollgate_private.stripe_invoice_fields(jsonb) is
  E'The fields Tollgate reads from a Stripe invoice object, of any API version: ids (expanded or not), its subscription and that subscription''s metadata.user_id (under parent since basil, at the top level before; null unless a uuid), status, number, lower-case currency, amounts (never below 0), the service period (from the first line, else the invoice''s own), links, paid and creation times. Nulls for missing fields; checks nothing.';

revoke all on function tollgate_private.stripe_invoice_fields(jsonb) from public, anon, authenticated, service_role;
