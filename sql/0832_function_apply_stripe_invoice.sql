create function tollgate_private.apply_stripe_invoice(invoice jsonb, event_at timestamptz, event_id text)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  -- Decoded once (0804): every field below is read from here.
  v_inv record := tollgate_private.stripe_invoice_fields(apply_stripe_invoice.invoice);
  v_stripe_id text := v_inv.id;
  v_stripe_subscription text := v_inv.subscription;
  v_user_id uuid;
  v_subscription_id uuid;
  v_local_id uuid;
  -- The id a new invoice gets, recorded in its provider_refs row when the watermark creates it.
  v_new_id uuid := gen_random_uuid();
  v_status text := v_inv.status;
begin
  if v_stripe_id is null or v_stripe_id !~ '^in_' then
    raise exception 'Not a Stripe invoice object' using errcode = 'BADEV';
  end if;
  if v_status is null or v_status not in ('draft', 'open', 'paid', 'void', 'uncollectible') then
    return jsonb_build_object('outcome', 'ignored', 'error', format('invoice status %s', coalesce(v_status, '(none)')));
  end if;

  -- The lookup every Stripe path shares (0806): the subscription's metadata.user_id, the customer,
  -- the subscription's ref; an invoice gives no hint.
  v_user_id := tollgate_private.stripe_user_of(null, v_inv.metadata_user, v_inv.customer, v_stripe_subscription);
  if v_user_id is null then
    return jsonb_build_object('outcome', 'unlinked', 'error', format('no Tollgate user for invoice %s', v_stripe_id));
  end if;

  -- The user's lock, as apply_stripe_subscription takes it: an invoice applied while its
  -- subscription's first event is in flight waits for it, then finds the subscription to link to.
  perform pg_advisory_xact_lock(hashtextextended('tollgate.user:' || v_user_id::text, 0));
  if not tollgate_private.advance_watermark('stripe', 'invoice', v_stripe_id, apply_stripe_invoice.event_at,
      apply_stripe_invoice.event_id, v_new_id, v_user_id, v_stripe_subscription) then
    -- Older by the watermark: an earlier second, or the same second and a smaller event id. An
    -- invoice only moves forward (draft, open, uncollectible, then paid or void), so a snapshot
    -- further along than the stored row is the newer one whatever its id says: invoice.finalized
    -- and invoice.paid of a first payment share their second, and their random ids must not
    -- leave a paid invoice open.
    if not exists (
        select from tollgate_private.provider_refs r
        join tollgate.invoices i on i.id = r.local_id
        where r.provider = 'stripe' and r.object_type = 'invoice' and r.provider_id = v_stripe_id
          and tollgate_private.invoice_status_rank(v_status) > tollgate_private.invoice_status_rank(i.status)) then
      return jsonb_build_object('outcome', 'stale');
    end if;
  end if;

  select r.local_id into v_subscription_id
  from tollgate_private.provider_refs r
  where r.provider = 'stripe' and r.object_type = 'subscription' and r.provider_id = v_stripe_subscription;

  select r.local_id into v_local_id
  from tollgate_private.provider_refs r
  where r.provider = 'stripe' and r.object_type = 'invoice' and r.provider_id = v_stripe_id;

  -- One write per event: a new invoice is inserted whole (its ref already points at it), a known
  -- one updated in place when the snapshot changes it.
  if v_local_id = v_new_id then
    insert into tollgate.invoices (
      id, user_id, subscription_id, provider, number, status, currency, amount_due, amount_paid,
      period_start, period_end, hosted_invoice_url, invoice_pdf, paid_at, created_at)
    values (
      v_new_id, v_user_id, v_subscription_id, 'stripe', v_inv.number, v_status, coalesce(v_inv.currency, 'usd'),
      v_inv.amount_due, v_inv.amount_paid, v_inv.period_start, v_inv.period_end,
      v_inv.hosted_invoice_url, v_inv.invoice_pdf, v_inv.paid_at, coalesce(v_inv.created, now()));
  else
    update tollgate.invoices i
    set subscription_id = coalesce(v_subscription_id, i.subscription_id),
        number = v_inv.number,
        status = v_status,
        currency = coalesce(v_inv.currency, i.currency),
        amount_due = v_inv.amount_due,
        amount_paid = v_inv.amount_paid,
        period_start = v_inv.period_start,
        period_end = v_inv.period_end,
        hosted_invoice_url = v_inv.hosted_invoice_url,
        invoice_pdf = v_inv.invoice_pdf,
        paid_at = v_inv.paid_at
    where i.id = v_local_id
      -- ... and never back, whichever of two events of one second passed the watermark last.
      and tollgate_private.invoice_status_rank(v_status) >= tollgate_private.invoice_status_rank(i.status)
      -- An identical snapshot (invoice.paid and invoice.payment_succeeded) writes nothing.
      and (i.subscription_id, i.number, i.status, i.currency, i.amount_due, i.amount_paid, i.period_start,
           i.period_end, i.hosted_invoice_url, i.invoice_pdf, i.paid_at)
        is distinct from
          (coalesce(v_subscription_id, i.subscription_id), v_inv.number, v_status,
           coalesce(v_inv.currency, i.currency), v_inv.amount_due, v_inv.amount_paid,
           v_inv.period_start, v_inv.period_end, v_inv.hosted_invoice_url, v_inv.invoice_pdf, v_inv.paid_at);
  end if;

  -- The payment intent that paid it, so its refunds and disputes find the invoice (0847).
  if v_status = 'paid' then
    perform tollgate_private.link_stripe_invoice_payment(
      tollgate_private.stripe_invoice_payment_intent(apply_stripe_invoice.invoice), v_local_id);
  end if;

  return jsonb_build_object('outcome', 'applied', 'invoice_id', v_local_id, 'user_id', v_user_id);
end;
$$;

comment on function tollgate_private.apply_stripe_invoice(jsonb, timestamptz, text) is
  E'Upserts a Stripe invoice (any API version) into tollgate.invoices unless a newer event about it was applied already; its status only moves forward (draft, open, uncollectible, then paid or void), so a snapshot further along is applied even when the watermark calls it older (events of one second are ordered by their random ids) and one behind never reopens the row. Decodes it with stripe_invoice_fields and finds the user with stripe_user_of (its subscription''s metadata.user_id, customer, the subscription''s ref). Outcome applied, stale, ignored or unlinked.';

revoke all on function tollgate_private.apply_stripe_invoice(jsonb, timestamptz, text) from public, anon, authenticated, service_role;
