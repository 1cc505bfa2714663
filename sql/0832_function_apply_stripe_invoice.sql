create function tollgate_private.apply_stripe_invoice(invoice jsonb, event_at timestamptz, event_id text)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_stripe_id text := apply_stripe_invoice.invoice ->> 'id';
  v_customer text := tollgate_private.provider_id(apply_stripe_invoice.invoice -> 'customer');
  -- Since basil an invoice names its subscription under parent; before, at the top level.
  v_stripe_subscription text := coalesce(
    tollgate_private.provider_id(apply_stripe_invoice.invoice #> '{parent,subscription_details,subscription}'),
    tollgate_private.provider_id(apply_stripe_invoice.invoice -> 'subscription'));
  v_line jsonb := apply_stripe_invoice.invoice #> '{lines,data,0}';
  v_user_id uuid;
  v_subscription_id uuid;
  v_local_id uuid;
  -- The id a new invoice gets, recorded in its provider_refs row when the watermark creates it.
  v_new_id uuid := gen_random_uuid();
  v_status text := apply_stripe_invoice.invoice ->> 'status';
  v_amount_due bigint;
  v_amount_paid bigint;
  v_period_start timestamptz;
  v_period_end timestamptz;
  v_paid_at timestamptz;
begin
  if v_stripe_id is null or v_stripe_id !~ '^in_' then
    raise exception 'Not a Stripe invoice object' using errcode = 'BADEV';
  end if;
  if v_status is null or v_status not in ('draft', 'open', 'paid', 'void', 'uncollectible') then
    return jsonb_build_object('outcome', 'ignored', 'error', format('invoice status %s', coalesce(v_status, '(none)')));
  end if;

  -- In this order: customer, subscription metadata (basil, then before), the subscription's ref.
  -- Lookups are statements of their own: inside one coalesce Postgres planned it again on every call.
  select c.user_id into v_user_id
  from tollgate_private.customers c
  where c.provider = 'stripe' and c.provider_customer_id = v_customer;
  if v_user_id is null then
    v_user_id := coalesce(
      tollgate_private.uuid_or_null(apply_stripe_invoice.invoice #>> '{parent,subscription_details,metadata,user_id}'),
      tollgate_private.uuid_or_null(apply_stripe_invoice.invoice #>> '{subscription_details,metadata,user_id}'));
  end if;
  if v_user_id is null then
    select r.user_id into v_user_id
    from tollgate_private.provider_refs r
    where r.provider = 'stripe' and r.object_type = 'subscription' and r.provider_id = v_stripe_subscription;
  end if;
  if v_user_id is null or not exists (select from auth.users u where u.id = v_user_id) then
    return jsonb_build_object('outcome', 'unlinked', 'error', format('no Tollgate user for invoice %s', v_stripe_id));
  end if;

  -- The user's lock, as apply_stripe_subscription takes it: an invoice applied while its
  -- subscription's first event is in flight waits for it, then finds the subscription to link to.
  perform pg_advisory_xact_lock(hashtextextended('tollgate.user:' || v_user_id::text, 0));
  if not tollgate_private.advance_watermark('stripe', 'invoice', v_stripe_id, apply_stripe_invoice.event_at,
      apply_stripe_invoice.event_id, v_new_id, v_user_id, v_stripe_subscription) then
    return jsonb_build_object('outcome', 'stale');
  end if;

  select r.local_id into v_subscription_id
  from tollgate_private.provider_refs r
  where r.provider = 'stripe' and r.object_type = 'subscription' and r.provider_id = v_stripe_subscription;

  select r.local_id into v_local_id
  from tollgate_private.provider_refs r
  where r.provider = 'stripe' and r.object_type = 'invoice' and r.provider_id = v_stripe_id;

  v_amount_due := greatest(coalesce((apply_stripe_invoice.invoice ->> 'amount_due')::bigint, 0), 0);
  v_amount_paid := greatest(coalesce((apply_stripe_invoice.invoice ->> 'amount_paid')::bigint, 0), 0);
  -- The service period is on the lines; the invoice's own period_* are when items were added.
  v_period_start := coalesce(tollgate_private.unix_time(v_line #> '{period,start}'),
    tollgate_private.unix_time(apply_stripe_invoice.invoice -> 'period_start'));
  v_period_end := coalesce(tollgate_private.unix_time(v_line #> '{period,end}'),
    tollgate_private.unix_time(apply_stripe_invoice.invoice -> 'period_end'));
  v_paid_at := tollgate_private.unix_time(apply_stripe_invoice.invoice #> '{status_transitions,paid_at}');

  -- One write per event: a new invoice is inserted whole (its ref already points at it), a known
  -- one updated in place when the snapshot changes it.
  if v_local_id = v_new_id then
    insert into tollgate.invoices (
      id, user_id, subscription_id, provider, number, status, currency, amount_due, amount_paid,
      period_start, period_end, hosted_invoice_url, invoice_pdf, paid_at, created_at)
    values (
      v_new_id, v_user_id, v_subscription_id, 'stripe', apply_stripe_invoice.invoice ->> 'number', v_status,
      lower(coalesce(apply_stripe_invoice.invoice ->> 'currency', 'usd')),
      v_amount_due, v_amount_paid, v_period_start, v_period_end,
      apply_stripe_invoice.invoice ->> 'hosted_invoice_url', apply_stripe_invoice.invoice ->> 'invoice_pdf',
      v_paid_at, coalesce(tollgate_private.unix_time(apply_stripe_invoice.invoice -> 'created'), now()));
  else
    update tollgate.invoices i
    set subscription_id = coalesce(v_subscription_id, i.subscription_id),
        number = apply_stripe_invoice.invoice ->> 'number',
        status = v_status,
        currency = lower(coalesce(apply_stripe_invoice.invoice ->> 'currency', i.currency)),
        amount_due = v_amount_due,
        amount_paid = v_amount_paid,
        period_start = v_period_start,
        period_end = v_period_end,
        hosted_invoice_url = apply_stripe_invoice.invoice ->> 'hosted_invoice_url',
        invoice_pdf = apply_stripe_invoice.invoice ->> 'invoice_pdf',
        paid_at = v_paid_at
    where i.id = v_local_id
      -- An identical snapshot (invoice.paid and invoice.payment_succeeded) writes nothing.
      and (i.subscription_id, i.number, i.status, i.currency, i.amount_due, i.amount_paid, i.period_start,
           i.period_end, i.hosted_invoice_url, i.invoice_pdf, i.paid_at)
        is distinct from
          (coalesce(v_subscription_id, i.subscription_id), apply_stripe_invoice.invoice ->> 'number', v_status,
           lower(coalesce(apply_stripe_invoice.invoice ->> 'currency', i.currency)), v_amount_due, v_amount_paid,
           v_period_start, v_period_end, apply_stripe_invoice.invoice ->> 'hosted_invoice_url',
           apply_stripe_invoice.invoice ->> 'invoice_pdf', v_paid_at);
  end if;

  return jsonb_build_object('outcome', 'applied', 'invoice_id', v_local_id, 'user_id', v_user_id);
end;
$$;

comment on function tollgate_private.apply_stripe_invoice(jsonb, timestamptz, text) is
  E'Upserts a Stripe invoice (any API version) into tollgate.invoices unless a newer event about it was applied already. Finds the user by customer or subscription metadata. Outcome applied, stale, ignored or unlinked.';

revoke all on function tollgate_private.apply_stripe_invoice(jsonb, timestamptz, text) from public, anon, authenticated, service_role;
