-- The Stripe webhook path, continued (renewals and invoices): a subscription update that cannot
-- change what its user is entitled to (a Stripe renewal that only moves the period) no longer
-- runs the usage-counter sync, which locked and re-derived every counter of the user for nothing;
-- apply_stripe_invoice writes a new invoice once (insert) instead of insert then update.
-- Same text as the files in sql/ (create or replace for the functions that exist already);
-- `create or replace` keeps each function's privileges and comment.

-- ==== sql/0510_function_tg_subscriptions__sync_usage.sql
create or replace function tollgate_private.tg_subscriptions__sync_usage()
returns trigger
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  -- Updates reach here only when the trigger's WHEN clause says the user's entitlement may change.
  -- Quotas follow the plan at once, in the same transaction as the subscription change.
  -- A user being deleted (the cascade from auth.users) has nothing left to sync.
  if tg_op in ('UPDATE', 'DELETE') and exists (select from auth.users u where u.id = old.user_id) then
    perform tollgate_private.sync_usage_counters(old.user_id, now());
  end if;
  if tg_op = 'INSERT' or (tg_op = 'UPDATE' and new.user_id <> old.user_id) then
    perform tollgate_private.sync_usage_counters(new.user_id, now());
  end if;
  return null;
end;
$$;

comment on function tollgate_private.tg_subscriptions__sync_usage() is
  E'Trigger: when a subscription is added or removed, or changes in a way that can change what its user is entitled to (plan, status, anchor, the end of a paid period that bounds the plan), moves the user''s usage counters to the plan they are now entitled to (carry-over on upgrade, usage kept on downgrade).';

revoke all on function tollgate_private.tg_subscriptions__sync_usage() from public, anon, authenticated, service_role;

-- The one trigger for insert, update and delete becomes two: a WHEN clause cannot read OLD in an
-- insert trigger.
drop trigger _500_sync_usage on tollgate.subscriptions;

create trigger _500_sync_usage
  after insert or delete on tollgate.subscriptions
  for each row execute function tollgate_private.tg_subscriptions__sync_usage();

-- An update runs the sync only when it can change tollgate_private.entitlement()'s answer for the
-- user at some moment (plan, anchor or valid_until); the clause reads exactly the columns
-- entitlement() reads, in the cases it reads them (keep the two in step). A renewal that only moves
-- the period of a live Stripe subscription with a billing_cycle_anchor changes none of them: its
-- counters keep their plan, anchor and valid_until, and roll on their own period_end (lazily in
-- apply_usage and usage_rows, or in run_maintenance), as they would without the event.
create trigger _500_sync_usage_on_update
  after update on tollgate.subscriptions
  for each row
  when (
    (old.user_id, old.plan_id, old.status, old.provider, old.billing_cycle_anchor,
     old.cancel_at_period_end, old.trial_end, old.created_at)
      is distinct from
        (new.user_id, new.plan_id, new.status, new.provider, new.billing_cycle_anchor,
         new.cancel_at_period_end, new.trial_end, new.created_at)
    -- From here on both rows agree on the columns above. Only a subscription that can be the
    -- user's plan reads its periods: the month anchor falls back to current_period_start, and
    -- valid_until follows current_period_end for past_due, one-off (razorpay, internal) and
    -- cancel-at-period-end subscriptions.
    or (new.status in ('trialing', 'active', 'past_due')
      and ((new.billing_cycle_anchor is null
          and old.current_period_start is distinct from new.current_period_start)
        or ((new.status = 'past_due' or new.provider <> 'stripe' or new.cancel_at_period_end)
          and old.current_period_end is distinct from new.current_period_end)))
  )
  execute function tollgate_private.tg_subscriptions__sync_usage();

-- ==== sql/0832_function_apply_stripe_invoice.sql
create or replace function tollgate_private.apply_stripe_invoice(invoice jsonb, event_at timestamptz, event_id text)
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

  v_user_id := coalesce(
    (select c.user_id from tollgate_private.customers c where c.provider = 'stripe' and c.provider_customer_id = v_customer),
    tollgate_private.uuid_or_null(apply_stripe_invoice.invoice #>> '{parent,subscription_details,metadata,user_id}'),
    tollgate_private.uuid_or_null(apply_stripe_invoice.invoice #>> '{subscription_details,metadata,user_id}'),
    (select r.user_id from tollgate_private.provider_refs r
     where r.provider = 'stripe' and r.object_type = 'subscription' and r.provider_id = v_stripe_subscription));
  if v_user_id is null or not exists (select from auth.users u where u.id = v_user_id) then
    return jsonb_build_object('outcome', 'unlinked', 'error', format('no Tollgate user for invoice %s', v_stripe_id));
  end if;

  -- The user's lock, as apply_stripe_subscription takes it: an invoice applied while its
  -- subscription's first event is in flight waits for it, then finds the subscription to link to.
  perform pg_advisory_xact_lock(hashtextextended('tollgate.user:' || v_user_id::text, 0));
  if not tollgate_private.advance_watermark('stripe', 'invoice', v_stripe_id, apply_stripe_invoice.event_at, apply_stripe_invoice.event_id) then
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

  -- One write per event: a new invoice is inserted whole, a known one updated in place.
  if v_local_id is null then
    insert into tollgate.invoices (
      user_id, subscription_id, provider, number, status, currency, amount_due, amount_paid,
      period_start, period_end, hosted_invoice_url, invoice_pdf, paid_at, created_at)
    values (
      v_user_id, v_subscription_id, 'stripe', apply_stripe_invoice.invoice ->> 'number', v_status,
      lower(coalesce(apply_stripe_invoice.invoice ->> 'currency', 'usd')),
      v_amount_due, v_amount_paid, v_period_start, v_period_end,
      apply_stripe_invoice.invoice ->> 'hosted_invoice_url', apply_stripe_invoice.invoice ->> 'invoice_pdf',
      v_paid_at, coalesce(tollgate_private.unix_time(apply_stripe_invoice.invoice -> 'created'), now()))
    returning id into v_local_id;
    update tollgate_private.provider_refs r
    set local_id = v_local_id, user_id = v_user_id, parent_id = v_stripe_subscription
    where r.provider = 'stripe' and r.object_type = 'invoice' and r.provider_id = v_stripe_id;
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
    where i.id = v_local_id;
  end if;

  return jsonb_build_object('outcome', 'applied', 'invoice_id', v_local_id, 'user_id', v_user_id);
end;
$$;

comment on function tollgate_private.apply_stripe_invoice(jsonb, timestamptz, text) is
  E'Upserts a Stripe invoice (any API version) into tollgate.invoices unless a newer event about it was applied already. Finds the user by customer or subscription metadata. Outcome applied, stale, ignored or unlinked.';

revoke all on function tollgate_private.apply_stripe_invoice(jsonb, timestamptz, text) from public, anon, authenticated, service_role;
