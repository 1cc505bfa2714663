-- The Stripe webhook path (bench/NOTES.md, Webhooks): the three JSON helpers in plpgsql (parsed
-- and planned on every call as SQL functions with a pinned search_path); a duplicate delivery
-- keeps the stored payload once its event is processed; an invoice takes its user's lock, as the
-- subscription does, so it links to a subscription applied at the same time; a checkout takes
-- that lock before linking the customer (no deadlock with its subscription's event); and a
-- lock-free ledger lookup so the webhook skips Stripe calls for duplicates.
-- Same text as the files in sql/ (create or replace for the functions that exist already);
-- `create or replace` keeps each function's privileges and comment.

-- ==== sql/0800_function_unix_time.sql
-- plpgsql, not sql: a SQL function with a pinned search_path is never inlined, so Postgres parsed
-- and planned it on every call (15 to 20 us, 6.6 calls per webhook event); plpgsql keeps its plan.
create or replace function tollgate_private.unix_time(value jsonb)
returns timestamptz
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  return case when jsonb_typeof(unix_time.value) = 'number' then to_timestamp((unix_time.value)::text::double precision) end;
end;
$$;

comment on function tollgate_private.unix_time(jsonb) is
  E'A provider timestamp (seconds since 1970 as a JSON number) as timestamptz; null for JSON null or anything else.';

revoke all on function tollgate_private.unix_time(jsonb) from public, anon, authenticated, service_role;

-- ==== sql/0801_function_provider_id.sql
-- plpgsql for the reason in 0800_function_unix_time.sql: called on every webhook event.
create or replace function tollgate_private.provider_id(value jsonb)
returns text
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  -- Stripe's expandable fields are either an id string or the expanded object.
  return case jsonb_typeof(provider_id.value)
    when 'string' then provider_id.value #>> '{}'
    when 'object' then provider_id.value ->> 'id'
  end;
end;
$$;

comment on function tollgate_private.provider_id(jsonb) is
  E'The id in a provider field that is either an id string or an expanded object with an id.';

revoke all on function tollgate_private.provider_id(jsonb) from public, anon, authenticated, service_role;

-- ==== sql/0802_function_uuid_or_null.sql
-- plpgsql for the reason in 0800_function_unix_time.sql: called on every webhook event.
create or replace function tollgate_private.uuid_or_null(value text)
returns uuid
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  return case
    when uuid_or_null.value ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
      then uuid_or_null.value::uuid
  end;
end;
$$;

comment on function tollgate_private.uuid_or_null(text) is
  E'The text as a uuid, or null when it is not one (provider metadata is untrusted text).';

revoke all on function tollgate_private.uuid_or_null(text) from public, anon, authenticated, service_role;

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

  if v_local_id is null then
    insert into tollgate.invoices (user_id, provider, status, currency, created_at)
    values (v_user_id, 'stripe', v_status, lower(coalesce(apply_stripe_invoice.invoice ->> 'currency', 'usd')),
      coalesce(tollgate_private.unix_time(apply_stripe_invoice.invoice -> 'created'), now()))
    returning id into v_local_id;
    update tollgate_private.provider_refs r
    set local_id = v_local_id, user_id = v_user_id, parent_id = v_stripe_subscription
    where r.provider = 'stripe' and r.object_type = 'invoice' and r.provider_id = v_stripe_id;
  end if;

  update tollgate.invoices i
  set subscription_id = coalesce(v_subscription_id, i.subscription_id),
      number = apply_stripe_invoice.invoice ->> 'number',
      status = v_status,
      currency = lower(coalesce(apply_stripe_invoice.invoice ->> 'currency', i.currency)),
      amount_due = greatest(coalesce((apply_stripe_invoice.invoice ->> 'amount_due')::bigint, 0), 0),
      amount_paid = greatest(coalesce((apply_stripe_invoice.invoice ->> 'amount_paid')::bigint, 0), 0),
      -- The service period is on the lines; the invoice's own period_* are when items were added.
      period_start = coalesce(tollgate_private.unix_time(v_line #> '{period,start}'),
        tollgate_private.unix_time(apply_stripe_invoice.invoice -> 'period_start')),
      period_end = coalesce(tollgate_private.unix_time(v_line #> '{period,end}'),
        tollgate_private.unix_time(apply_stripe_invoice.invoice -> 'period_end')),
      hosted_invoice_url = apply_stripe_invoice.invoice ->> 'hosted_invoice_url',
      invoice_pdf = apply_stripe_invoice.invoice ->> 'invoice_pdf',
      paid_at = tollgate_private.unix_time(apply_stripe_invoice.invoice #> '{status_transitions,paid_at}')
  where i.id = v_local_id;

  return jsonb_build_object('outcome', 'applied', 'invoice_id', v_local_id, 'user_id', v_user_id);
end;
$$;

comment on function tollgate_private.apply_stripe_invoice(jsonb, timestamptz, text) is
  E'Upserts a Stripe invoice (any API version) into tollgate.invoices unless a newer event about it was applied already. Finds the user by customer or subscription metadata. Outcome applied, stale, ignored or unlinked.';

revoke all on function tollgate_private.apply_stripe_invoice(jsonb, timestamptz, text) from public, anon, authenticated, service_role;

-- ==== sql/0834_function_apply_stripe_event.sql
create or replace function tollgate_private.apply_stripe_event(event jsonb, related jsonb default null)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_event_id text := apply_stripe_event.event ->> 'id';
  v_type text := apply_stripe_event.event ->> 'type';
  v_at timestamptz := tollgate_private.unix_time(apply_stripe_event.event -> 'created');
  v_object jsonb := apply_stripe_event.event #> '{data,object}';
  v_processed timestamptz;
  v_result jsonb;
begin
  if v_event_id is null or v_event_id !~ '^evt_' or v_type is null or v_at is null
    or jsonb_typeof(v_object) is distinct from 'object' then
    raise exception 'Not a Stripe event' using errcode = 'BADEV', hint = 'Expected id evt_..., type, created and data.object.';
  end if;

  -- GUARD: record once; a duplicate waits here for the first delivery, then finds it processed.
  insert into tollgate_private.webhook_events (provider, event_id, type, api_version, event_created_at, payload)
  values ('stripe', v_event_id, v_type, apply_stripe_event.event ->> 'api_version', v_at, apply_stripe_event.event)
  on conflict on constraint webhook_events_provider_event_id_key do update
    set attempts = tollgate_private.webhook_events.attempts + 1,
        -- A failed first delivery was noted without these.
        api_version = coalesce(tollgate_private.webhook_events.api_version, excluded.api_version),
        event_created_at = coalesce(tollgate_private.webhook_events.event_created_at, excluded.event_created_at),
        -- A processed event keeps the payload it was applied from (and the row is not rewritten
        -- with its TOAST chunks on every duplicate).
        payload = case when tollgate_private.webhook_events.processed_at is null then excluded.payload
          else tollgate_private.webhook_events.payload end
  returning processed_at into v_processed;
  if v_processed is not null then
    return jsonb_build_object('outcome', 'duplicate', 'event_id', v_event_id, 'type', v_type);
  end if;

  perform set_config('tollgate.audit_reason', 'stripe:' || v_event_id, true);

  case
    when v_type in ('checkout.session.completed', 'checkout.session.async_payment_succeeded') then
      v_result := tollgate_private.apply_stripe_checkout(v_object, apply_stripe_event.related -> 'subscription', v_at, v_event_id);
    when v_type in ('checkout.session.async_payment_failed', 'checkout.session.expired') then
      if v_object #>> '{metadata,tollgate_checkout_id}' is not null then
        perform tollgate_private.settle_coupon(v_object #>> '{metadata,tollgate_checkout_id}', false);
      end if;
      v_result := jsonb_build_object('outcome', 'applied');
    when v_type like 'customer.subscription.%' then
      v_result := tollgate_private.apply_stripe_subscription(v_object, v_at, v_event_id, null);
    -- invoice.upcoming previews an invoice that does not exist yet (no id): nothing to store.
    when v_type like 'invoice.%' and v_object ->> 'object' = 'invoice' and v_object ->> 'id' is not null then
      v_result := tollgate_private.apply_stripe_invoice(v_object, v_at, v_event_id);
    else
      v_result := jsonb_build_object('outcome', 'ignored');
  end case;

  update tollgate_private.webhook_events w
  set processed_at = now(),
      outcome = v_result ->> 'outcome',
      error = v_result ->> 'error'
  where w.provider = 'stripe' and w.event_id = v_event_id;

  return v_result || jsonb_build_object('event_id', v_event_id, 'type', v_type);
end;
$$;

comment on function tollgate_private.apply_stripe_event(jsonb, jsonb) is
  E'Records a verified Stripe event in the webhook ledger and applies it, once, in one transaction: a duplicate delivery is a no-op; an event older than what was applied to its object is recorded as stale. related.subscription carries the subscription a checkout created, fetched by the caller.';

revoke all on function tollgate_private.apply_stripe_event(jsonb, jsonb) from public, anon, authenticated, service_role;

-- ==== sql/0841_function_apply_razorpay_event.sql
create or replace function tollgate_private.apply_razorpay_event(event_id text, event jsonb)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_type text := apply_razorpay_event.event ->> 'event';
  v_at timestamptz := coalesce(tollgate_private.unix_time(apply_razorpay_event.event -> 'created_at'), now());
  v_payment jsonb := apply_razorpay_event.event #> '{payload,payment,entity}';
  v_order jsonb := apply_razorpay_event.event #> '{payload,order,entity}';
  v_processed timestamptz;
  v_result jsonb;
begin
  if apply_razorpay_event.event_id is null or length(apply_razorpay_event.event_id) not between 1 and 255
    or v_type is null or jsonb_typeof(apply_razorpay_event.event -> 'payload') is distinct from 'object' then
    raise exception 'Not a Razorpay event' using errcode = 'BADEV', hint = 'Expected event, payload and an x-razorpay-event-id.';
  end if;

  -- GUARD: record once; a duplicate waits here for the first delivery, then finds it processed.
  insert into tollgate_private.webhook_events (provider, event_id, type, event_created_at, payload)
  values ('razorpay', apply_razorpay_event.event_id, v_type, v_at, apply_razorpay_event.event)
  on conflict on constraint webhook_events_provider_event_id_key do update
    set attempts = tollgate_private.webhook_events.attempts + 1,
        -- A failed first delivery was noted without these.
        event_created_at = coalesce(tollgate_private.webhook_events.event_created_at, excluded.event_created_at),
        -- A processed event keeps the payload it was applied from (and the row is not rewritten
        -- with its TOAST chunks on every duplicate).
        payload = case when tollgate_private.webhook_events.processed_at is null then excluded.payload
          else tollgate_private.webhook_events.payload end
  returning processed_at into v_processed;
  if v_processed is not null then
    return jsonb_build_object('outcome', 'duplicate', 'event_id', apply_razorpay_event.event_id, 'type', v_type);
  end if;

  case v_type
    when 'payment.captured' then
      v_result := tollgate_private.apply_razorpay_payment(
        null, v_payment ->> 'order_id', v_payment ->> 'id', (v_payment ->> 'amount')::bigint,
        apply_razorpay_event.event_id, v_at);
    when 'order.paid' then
      v_result := tollgate_private.apply_razorpay_payment(
        null, v_order ->> 'id', v_payment ->> 'id', (v_order ->> 'amount_paid')::bigint,
        apply_razorpay_event.event_id, v_at);
    when 'payment.failed' then
      -- The order stays open: the user may pay it with another attempt.
      v_result := jsonb_build_object('outcome', 'ignored', 'error', v_payment ->> 'error_description');
    else
      v_result := jsonb_build_object('outcome', 'ignored');
  end case;
  if v_result ->> 'outcome' = 'duplicate' then
    -- The order was applied by verify-payment or by the other event of the same payment.
    v_result := v_result || jsonb_build_object('outcome', 'applied');
  end if;

  update tollgate_private.webhook_events w
  set processed_at = now(), outcome = v_result ->> 'outcome', error = v_result ->> 'error'
  where w.provider = 'razorpay' and w.event_id = apply_razorpay_event.event_id;

  return v_result || jsonb_build_object('event_id', apply_razorpay_event.event_id, 'type', v_type);
end;
$$;

comment on function tollgate_private.apply_razorpay_event(text, jsonb) is
  E'Records a verified Razorpay webhook (deduplicated by x-razorpay-event-id) and applies payment.captured and order.paid once per order; payment.failed and other types are recorded and acknowledged.';

revoke all on function tollgate_private.apply_razorpay_event(text, jsonb) from public, anon, authenticated, service_role;

-- ==== sql/0844_function_webhook_event_processed.sql
create function tollgate_private.webhook_event_processed(provider text, event_id text)
returns boolean
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  -- plpgsql for the reason in 0800_function_unix_time.sql: its plan is kept between calls.
  return coalesce((
    select w.processed_at is not null
    from tollgate_private.webhook_events w
    where w.provider = webhook_event_processed.provider and w.event_id = webhook_event_processed.event_id), false);
end;
$$;

comment on function tollgate_private.webhook_event_processed(text, text) is
  E'True when this provider event is in the webhook ledger and was processed: a read without locks, so the webhook skips provider calls a duplicate delivery does not need (apply_*_event still decides and records).';

revoke all on function tollgate_private.webhook_event_processed(text, text) from public, anon, authenticated, service_role;

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

  v_user_id := coalesce(
    tollgate_private.uuid_or_null(apply_stripe_checkout.session ->> 'client_reference_id'),
    tollgate_private.uuid_or_null(apply_stripe_checkout.session #>> '{metadata,user_id}'),
    (select r.user_id from tollgate_private.provider_refs r
     where r.provider = 'stripe' and r.object_type = 'checkout_session' and r.provider_id = v_session_id));
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
