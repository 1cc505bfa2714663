create function tollgate_private.apply_stripe_event(event jsonb, related jsonb default null)
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
  -- What the ledger stores (0474): the payload (scrubbed when it names a deleted user), its subjects.
  v_row record;
  v_checkout_id text;
  v_result jsonb;
  v_refund record;
  v_payment_intent text;
  v_invoice_id uuid;
begin
  if v_event_id is null or v_event_id !~ '^evt_' or v_type is null or v_at is null
    or jsonb_typeof(v_object) is distinct from 'object' then
    raise exception 'Not a Stripe event' using errcode = 'BADEV', hint = 'Expected id evt_..., type, created and data.object.';
  end if;

  v_row := tollgate_private.webhook_event_row('stripe', apply_stripe_event.event);

  -- GUARD: record once; a duplicate waits here for the first delivery, then finds it processed.
  insert into tollgate_private.webhook_events (provider, event_id, type, api_version, event_created_at, payload, subjects)
  -- Stored without personal data when it names a user deleted since (0474); applied as it came.
  values ('stripe', v_event_id, v_type, apply_stripe_event.event ->> 'api_version', v_at,
    v_row.payload, v_row.subjects)
  on conflict on constraint webhook_events_provider_event_id_key do update
    set attempts = tollgate_private.webhook_events.attempts + 1,
        -- A failed first delivery was noted without these.
        api_version = coalesce(tollgate_private.webhook_events.api_version, excluded.api_version),
        event_created_at = coalesce(tollgate_private.webhook_events.event_created_at, excluded.event_created_at),
        -- A processed event keeps the payload it was applied from (and the row is not rewritten
        -- with its TOAST chunks on every duplicate).
        payload = case when tollgate_private.webhook_events.processed_at is null then excluded.payload
          else tollgate_private.webhook_events.payload end,
        subjects = case when tollgate_private.webhook_events.processed_at is null then excluded.subjects
          else tollgate_private.webhook_events.subjects end
  returning processed_at into v_processed;
  if v_processed is not null then
    return jsonb_build_object('outcome', 'duplicate', 'event_id', v_event_id, 'type', v_type);
  end if;

  perform set_config('tollgate.audit_reason', 'stripe:' || v_event_id, true);

  case
    -- A product bought (payment mode): the purchase and its credits, once.
    when v_type in ('checkout.session.completed', 'checkout.session.async_payment_succeeded')
      and v_object ->> 'mode' = 'payment' then
      v_result := tollgate_private.apply_stripe_purchase(v_object, null, v_at, v_event_id);
    when v_type in ('checkout.session.completed', 'checkout.session.async_payment_succeeded') then
      v_result := tollgate_private.apply_stripe_checkout(v_object, apply_stripe_event.related -> 'subscription', v_at, v_event_id);
    when v_type in ('checkout.session.async_payment_failed', 'checkout.session.expired') then
      v_checkout_id := (tollgate_private.stripe_checkout_fields(v_object)).checkout_id;
      if v_checkout_id is not null then
        perform tollgate_private.settle_coupon(v_checkout_id, false);
      end if;
      v_result := jsonb_build_object('outcome', 'applied');
    when v_type like 'customer.subscription.%' then
      -- related.subscription: the object re-fetched after this event tied with another of its second.
      v_result := tollgate_private.apply_stripe_subscription(
        coalesce(apply_stripe_event.related -> 'subscription', v_object), v_at, v_event_id, null,
        apply_stripe_event.related -> 'subscription' is not null);
    -- invoice.upcoming previews an invoice that does not exist yet (no id): nothing to store.
    when v_type like 'invoice.%' and v_object ->> 'object' = 'invoice' and v_object ->> 'id' is not null then
      v_result := tollgate_private.apply_stripe_invoice(v_object, v_at, v_event_id);
    -- Refunds and disputes (0838, 0839, 0845): a refund counts once by its id, whichever event says it.
    when v_type like 'refund.%' or v_type = 'charge.refund.updated' then
      v_refund := tollgate_private.stripe_refund_fields(v_object);
      if v_refund.id is null or v_refund.amount is null or v_refund.status is null then
        v_result := jsonb_build_object('outcome', 'ignored', 'error', 'refund without id, amount or status');
      else
        v_result := tollgate_private.record_refund('stripe', v_refund.id, coalesce(v_refund.payment_intent,
            (select r.parent_id from tollgate_private.provider_refs r
             where r.provider = 'stripe' and r.object_type = 'charge' and r.provider_id = v_refund.charge)),
          v_refund.amount, v_refund.currency, v_refund.status, v_at, v_event_id, 'stripe:' || v_event_id);
      end if;
    when v_type like 'charge.dispute.%' then
      v_result := tollgate_private.apply_stripe_dispute(v_object, v_at, v_event_id);
    when v_type = 'charge.refunded' then
      v_result := tollgate_private.apply_stripe_charge(v_object, v_at, v_event_id);
    -- Since basil an invoice's payment intent is on its invoice_payment (0847 links it).
    when v_type = 'invoice_payment.paid' then
      v_payment_intent := coalesce(v_object #>> '{payment,payment_intent,id}', v_object #>> '{payment,payment_intent}');
      v_invoice_id := (select r.local_id from tollgate_private.provider_refs r
        where r.provider = 'stripe' and r.object_type = 'invoice'
          and r.provider_id = coalesce(v_object #>> '{invoice,id}', v_object ->> 'invoice'));
      if v_payment_intent is null or v_invoice_id is null then
        -- A payment record, or an invoice Tollgate does not hold: nothing to link.
        v_result := jsonb_build_object('outcome', 'ignored');
      else
        perform tollgate_private.link_stripe_invoice_payment(v_payment_intent, v_invoice_id);
        v_result := jsonb_build_object('outcome', 'applied', 'invoice_id', v_invoice_id);
      end if;
    else
      v_result := jsonb_build_object('outcome', 'ignored');
  end case;

  -- Stripe's reminder three days before a trial ends (maintenance writes the same, once).
  if v_type = 'customer.subscription.trial_will_end' and v_result ? 'subscription_id' then
    perform tollgate_private.notify_trial_ending((v_result ->> 'subscription_id')::uuid);
  end if;

  -- A tie is not processed yet: the caller re-fetches the object and applies this event again.
  update tollgate_private.webhook_events w
  set processed_at = case when v_result ->> 'outcome' = 'tie' then null else now() end,
      outcome = v_result ->> 'outcome',
      error = v_result ->> 'error'
  where w.provider = 'stripe' and w.event_id = v_event_id;

  -- actions_due (only when true): provider calls wait (this event's or earlier ones'), so the
  -- caller asks for them (due_provider_actions) only then.
  if exists (select from tollgate_private.provider_actions a
      where a.state = 'pending' and a.next_attempt_at <= now()) then
    v_result := v_result || jsonb_build_object('actions_due', true);
  end if;
  return v_result || jsonb_build_object('event_id', v_event_id, 'type', v_type);
end;
$$;

comment on function tollgate_private.apply_stripe_event(jsonb, jsonb) is
  E'Records a verified Stripe event in the webhook ledger (without personal data when it names a user deleted since: webhook_event_row) and applies it, once, in one transaction: a duplicate delivery is a no-op; an event older than what was applied to its object is recorded as stale. related.subscription carries the subscription a checkout created, or the one a customer.subscription event is about when it tied with another event of the same second (outcome tie, left unprocessed), fetched by the caller. Refunds (refund.*, charge.refund.updated, charge.refunded) and disputes (charge.dispute.*) settle the invoice or purchase their payment intent paid; invoice_payment.paid links an invoice to its payment intent. The answer carries actions_due: true when provider actions are due (due_provider_actions).';

revoke all on function tollgate_private.apply_stripe_event(jsonb, jsonb) from public, anon, authenticated, service_role;
