-- The Stripe webhook path, continued (watermark): advance_watermark is one statement (an upsert
-- whose ON CONFLICT locks a known object's row and updates it only for a newer event) instead of
-- insert, lock and update, and an object seen for the first time gets its row with its link at
-- once, so a new invoice or subscription no longer updates its provider_refs row right after.
-- apply_stripe_invoice, apply_stripe_subscription and apply_stripe_checkout look the user up one
-- source per statement (a coalesce of subqueries was planned again on every call), and an invoice
-- event that changes nothing writes nothing.
-- Same text as the files in sql/ (create or replace for the functions that exist already);
-- `create or replace` keeps each function's privileges and comment. advance_watermark gains
-- arguments, so it is dropped and created again, with its comment and privileges.

drop function tollgate_private.advance_watermark(text, text, text, timestamptz, text);

-- ==== sql/0830_function_advance_watermark.sql
create function tollgate_private.advance_watermark(
  provider text,
  object_type text,
  provider_id text,
  event_at timestamptz,
  event_id text,
  local_id uuid default null,
  user_id uuid default null,
  parent_id text default null
)
returns boolean
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  -- One statement: an object seen for the first time is inserted with its watermark and the link
  -- the caller gives; a known row keeps its link and gets the given one only where it has none. The
  -- row is locked until commit even when the event is older and nothing is updated (ON CONFLICT DO
  -- UPDATE locks the row before its WHERE), so two deliveries about one object are applied one after
  -- the other. Late events never overwrite newer state: order by creation time, then event id.
  insert into tollgate_private.provider_refs as r (
    provider, object_type, provider_id, local_id, user_id, parent_id, last_event_at, last_event_id)
  values (
    advance_watermark.provider, advance_watermark.object_type, advance_watermark.provider_id,
    advance_watermark.local_id, advance_watermark.user_id, advance_watermark.parent_id,
    advance_watermark.event_at, advance_watermark.event_id)
  on conflict on constraint provider_refs_pkey do update
    set last_event_at = excluded.last_event_at,
        last_event_id = excluded.last_event_id,
        local_id = coalesce(r.local_id, excluded.local_id),
        user_id = coalesce(r.user_id, excluded.user_id),
        parent_id = coalesce(r.parent_id, excluded.parent_id)
    where (r.last_event_at is not null
      and (r.last_event_at, r.last_event_id) >= (excluded.last_event_at, excluded.last_event_id)) is not true;
  return found;
end;
$$;

comment on function tollgate_private.advance_watermark(text, text, text, timestamptz, text, uuid, uuid, text) is
  E'Locks a provider object''s row and moves its watermark to this event when the event is newer (created time, then event id); false means the event is older than what was applied and must not be. The link given (local_id, user_id, parent_id) is stored where the row has none, so afterwards the row''s local_id is the object''s local row: the given id means a new one.';

revoke all on function tollgate_private.advance_watermark(text, text, text, timestamptz, text, uuid, uuid, text) from public, anon, authenticated, service_role;

-- ==== sql/0831_function_apply_stripe_subscription.sql
create or replace function tollgate_private.apply_stripe_subscription(
  subscription jsonb,
  event_at timestamptz,
  event_id text,
  user_hint uuid
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_stripe_id text := apply_stripe_subscription.subscription ->> 'id';
  v_customer text := tollgate_private.provider_id(apply_stripe_subscription.subscription -> 'customer');
  v_item jsonb := apply_stripe_subscription.subscription #> '{items,data,0}';
  v_user_id uuid;
  v_plan_id text;
  v_price text;
  v_status text := apply_stripe_subscription.subscription ->> 'status';
  v_period_start timestamptz;
  v_period_end timestamptz;
  v_cancel_at timestamptz;
  v_local_id uuid;
  -- The id a new subscription gets, recorded in its provider_refs row when the watermark creates it.
  v_new_id uuid := gen_random_uuid();
  v_other uuid;
begin
  if v_stripe_id is null or v_stripe_id !~ '^sub_' or v_status is null then
    raise exception 'Not a Stripe subscription object' using errcode = 'BADEV';
  end if;

  -- In this order: hint, metadata.user_id, customer, the subscription's ref. Lookups are
  -- statements of their own: inside one coalesce Postgres planned it again on every call.
  v_user_id := coalesce(
    apply_stripe_subscription.user_hint,
    tollgate_private.uuid_or_null(apply_stripe_subscription.subscription #>> '{metadata,user_id}'));
  if v_user_id is null then
    select c.user_id into v_user_id
    from tollgate_private.customers c
    where c.provider = 'stripe' and c.provider_customer_id = v_customer;
  end if;
  if v_user_id is null then
    select r.user_id into v_user_id
    from tollgate_private.provider_refs r
    where r.provider = 'stripe' and r.object_type = 'subscription' and r.provider_id = v_stripe_id;
  end if;
  if v_user_id is null or not exists (select from auth.users u where u.id = v_user_id) then
    return jsonb_build_object('outcome', 'unlinked', 'error', format('no Tollgate user for subscription %s', v_stripe_id));
  end if;

  v_price := tollgate_private.provider_id(v_item -> 'price');
  select p.id into v_plan_id from tollgate.plans p where p.stripe_price_id = v_price;
  if v_plan_id is null then
    return jsonb_build_object('outcome', 'unlinked', 'error', format('no plan has Stripe price %s', coalesce(v_price, '(none)')));
  end if;

  -- Since API 2025-03-31.basil the period lives on each item; older versions put it on the subscription.
  v_period_start := coalesce(
    tollgate_private.unix_time(v_item -> 'current_period_start'),
    tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'current_period_start'));
  v_period_end := coalesce(
    tollgate_private.unix_time(v_item -> 'current_period_end'),
    tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'current_period_end'));
  if v_period_end <= v_period_start then
    v_period_end := null;
  end if;
  v_cancel_at := tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'cancel_at');

  -- One writer per user at a time: two subscriptions of one user applied at once cannot both go live.
  perform pg_advisory_xact_lock(hashtextextended('tollgate.user:' || v_user_id::text, 0));
  perform tollgate_private.link_customer(v_user_id, 'stripe', v_customer);
  if not tollgate_private.advance_watermark('stripe', 'subscription', v_stripe_id, apply_stripe_subscription.event_at,
      apply_stripe_subscription.event_id, v_new_id, v_user_id) then
    return jsonb_build_object('outcome', 'stale');
  end if;

  select r.local_id into v_local_id
  from tollgate_private.provider_refs r
  where r.provider = 'stripe' and r.object_type = 'subscription' and r.provider_id = v_stripe_id;

  if v_status in ('trialing', 'active', 'past_due', 'unpaid', 'paused') then
    -- This one is live: it replaces whatever else is live for the user (one live per user).
    for v_other in
      select s.id from tollgate.subscriptions s
      where s.user_id = v_user_id
        and s.status in ('trialing', 'active', 'past_due', 'unpaid', 'paused')
        and s.id is distinct from v_local_id
    loop
      update tollgate.subscriptions s
      set status = 'canceled', canceled_at = coalesce(s.canceled_at, apply_stripe_subscription.event_at),
          ended_at = apply_stripe_subscription.event_at
      where s.id = v_other;
    end loop;
  end if;

  -- A new subscription is inserted with the id its ref already points at.
  if v_local_id = v_new_id then
    insert into tollgate.subscriptions (
      id, user_id, plan_id, status, provider, current_period_start, current_period_end, billing_cycle_anchor,
      cancel_at_period_end, canceled_at, ended_at, trial_end, created_at)
    values (
      v_new_id, v_user_id, v_plan_id, v_status, 'stripe', v_period_start, v_period_end,
      tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'billing_cycle_anchor'),
      coalesce((apply_stripe_subscription.subscription ->> 'cancel_at_period_end')::boolean, false)
        or (v_cancel_at is not null and v_cancel_at <= v_period_end),
      tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'canceled_at'),
      tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'ended_at'),
      tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'trial_end'),
      coalesce(tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'created'), now()));
    -- Invoices seen before their subscription now get linked to it.
    update tollgate.invoices i
    set subscription_id = v_local_id
    from tollgate_private.provider_refs r
    where r.provider = 'stripe' and r.object_type = 'invoice' and r.parent_id = v_stripe_id
      and i.id = r.local_id and i.subscription_id is null;
  else
    update tollgate.subscriptions s
    set plan_id = v_plan_id,
        status = v_status,
        current_period_start = v_period_start,
        current_period_end = v_period_end,
        billing_cycle_anchor = coalesce(
          tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'billing_cycle_anchor'), s.billing_cycle_anchor),
        cancel_at_period_end = coalesce((apply_stripe_subscription.subscription ->> 'cancel_at_period_end')::boolean, false)
          or (v_cancel_at is not null and v_cancel_at <= v_period_end),
        canceled_at = tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'canceled_at'),
        ended_at = tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'ended_at'),
        trial_end = tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'trial_end')
    where s.id = v_local_id
      -- An identical snapshot (a verify after its webhook) writes nothing.
      and (s.plan_id, s.status, s.current_period_start, s.current_period_end, s.cancel_at_period_end,
           s.canceled_at, s.ended_at, s.trial_end)
        is distinct from
          (v_plan_id, v_status, v_period_start, v_period_end,
           coalesce((apply_stripe_subscription.subscription ->> 'cancel_at_period_end')::boolean, false)
             or (v_cancel_at is not null and v_cancel_at <= v_period_end),
           tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'canceled_at'),
           tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'ended_at'),
           tollgate_private.unix_time(apply_stripe_subscription.subscription -> 'trial_end'));
  end if;

  return jsonb_build_object('outcome', 'applied', 'subscription_id', v_local_id, 'user_id', v_user_id);
end;
$$;

comment on function tollgate_private.apply_stripe_subscription(jsonb, timestamptz, text, uuid) is
  E'Applies a Stripe subscription snapshot (any API version: periods from its first item, or from the subscription before basil) unless a newer event about it was applied already. Finds the user by hint, metadata.user_id or customer, the plan by the first item''s price. Outcome applied, stale or unlinked.';

revoke all on function tollgate_private.apply_stripe_subscription(jsonb, timestamptz, text, uuid) from public, anon, authenticated, service_role;

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

-- ==== sql/0833_function_apply_stripe_checkout.sql
create or replace function tollgate_private.apply_stripe_checkout(
  session jsonb,
  subscription jsonb,
  event_at timestamptz,
  event_id text
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_session_id text := apply_stripe_checkout.session ->> 'id';
  v_user_id uuid;
  v_checkout_id text := apply_stripe_checkout.session #>> '{metadata,tollgate_checkout_id}';
  v_result jsonb;
begin
  if v_session_id is null or v_session_id !~ '^cs_' then
    raise exception 'Not a Stripe Checkout Session object' using errcode = 'BADEV';
  end if;
  if apply_stripe_checkout.session ->> 'mode' is distinct from 'subscription' then
    return jsonb_build_object('outcome', 'ignored', 'error', 'not a subscription checkout');
  end if;

  -- In this order: client_reference_id, metadata.user_id, the session's ref. The lookup is a
  -- statement of its own: inside the coalesce Postgres planned it again on every call.
  v_user_id := coalesce(
    tollgate_private.uuid_or_null(apply_stripe_checkout.session ->> 'client_reference_id'),
    tollgate_private.uuid_or_null(apply_stripe_checkout.session #>> '{metadata,user_id}'));
  if v_user_id is null then
    select r.user_id into v_user_id
    from tollgate_private.provider_refs r
    where r.provider = 'stripe' and r.object_type = 'checkout_session' and r.provider_id = v_session_id;
  end if;
  if v_user_id is null or not exists (select from auth.users u where u.id = v_user_id) then
    return jsonb_build_object('outcome', 'unlinked', 'error', format('no Tollgate user for checkout %s', v_session_id));
  end if;

  if apply_stripe_checkout.session ->> 'payment_status' not in ('paid', 'no_payment_required') then
    -- Paid later (async methods): checkout.session.async_payment_succeeded applies it.
    return jsonb_build_object('outcome', 'ignored', 'error', 'not paid yet');
  end if;

  -- The user's lock before the first write, as apply_stripe_subscription takes it before linking
  -- the customer: a checkout and its subscription's event applied at once then queue on the lock,
  -- instead of each waiting on what the other wrote (a deadlock, one side retried minutes later).
  perform pg_advisory_xact_lock(hashtextextended('tollgate.user:' || v_user_id::text, 0));
  perform tollgate_private.link_customer(
    v_user_id, 'stripe', tollgate_private.provider_id(apply_stripe_checkout.session -> 'customer'));
  if v_checkout_id is not null then
    perform tollgate_private.settle_coupon(v_checkout_id, true);
  end if;

  if apply_stripe_checkout.subscription is null then
    -- The subscription's own events will bring it.
    return jsonb_build_object('outcome', 'applied', 'user_id', v_user_id);
  end if;
  if tollgate_private.provider_id(apply_stripe_checkout.session -> 'subscription') is distinct from apply_stripe_checkout.subscription ->> 'id' then
    raise exception 'The subscription given is not the checkout''s' using errcode = 'BADEV';
  end if;
  v_result := tollgate_private.apply_stripe_subscription(
    apply_stripe_checkout.subscription, apply_stripe_checkout.event_at, apply_stripe_checkout.event_id, v_user_id);
  -- A stale snapshot means a newer one is applied already: the checkout itself is done.
  if v_result ->> 'outcome' = 'stale' then
    return jsonb_build_object('outcome', 'applied', 'user_id', v_user_id);
  end if;
  return v_result;
end;
$$;

comment on function tollgate_private.apply_stripe_checkout(jsonb, jsonb, timestamptz, text) is
  E'Applies a completed, paid subscription-mode Checkout Session: links the customer to the user (client_reference_id), redeems the coupon and applies the subscription snapshot fetched with it. Shared by the webhook and verify-payment.';

revoke all on function tollgate_private.apply_stripe_checkout(jsonb, jsonb, timestamptz, text) from public, anon, authenticated, service_role;
