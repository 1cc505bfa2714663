create function tollgate_private.apply_razorpay_event(event_id text, event jsonb)
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
  -- What the ledger stores (0474): the payload (scrubbed when it names a deleted user), its subjects.
  v_row record;
  v_result jsonb;
  v_refund jsonb;
begin
  if apply_razorpay_event.event_id is null or length(apply_razorpay_event.event_id) not between 1 and 255
    or v_type is null or jsonb_typeof(apply_razorpay_event.event -> 'payload') is distinct from 'object' then
    raise exception 'Not a Razorpay event' using errcode = 'BADEV', hint = 'Expected event, payload and an x-razorpay-event-id.';
  end if;

  v_row := tollgate_private.webhook_event_row('razorpay', apply_razorpay_event.event);

  -- GUARD: record once; a duplicate waits here for the first delivery, then finds it processed.
  insert into tollgate_private.webhook_events (provider, event_id, type, event_created_at, payload, subjects)
  -- Stored without personal data when it names a user deleted since (0474); applied as it came.
  values ('razorpay', apply_razorpay_event.event_id, v_type, v_at,
    v_row.payload, v_row.subjects)
  on conflict on constraint webhook_events_provider_event_id_key do update
    set attempts = tollgate_private.webhook_events.attempts + 1,
        -- A failed first delivery was noted without these.
        event_created_at = coalesce(tollgate_private.webhook_events.event_created_at, excluded.event_created_at),
        -- A processed event keeps the payload it was applied from (and the row is not rewritten
        -- with its TOAST chunks on every duplicate).
        payload = case when tollgate_private.webhook_events.processed_at is null then excluded.payload
          else tollgate_private.webhook_events.payload end,
        subjects = case when tollgate_private.webhook_events.processed_at is null then excluded.subjects
          else tollgate_private.webhook_events.subjects end
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
    -- A refund entity names its payment (the pay_... ref) and counts once by its rfnd_... id (0838).
    when 'refund.created', 'refund.processed', 'refund.failed' then
      v_refund := apply_razorpay_event.event #> '{payload,refund,entity}';
      if v_refund ->> 'id' is null or jsonb_typeof(v_refund -> 'amount') is distinct from 'number'
        or v_refund ->> 'status' is null then
        v_result := jsonb_build_object('outcome', 'ignored', 'error', 'refund without id, amount or status');
      else
        v_result := tollgate_private.record_refund('razorpay', v_refund ->> 'id',
          coalesce(v_refund ->> 'payment_id', v_payment ->> 'id'), (v_refund ->> 'amount')::bigint,
          v_refund ->> 'currency', v_refund ->> 'status', v_at, apply_razorpay_event.event_id,
          'razorpay:' || apply_razorpay_event.event_id);
      end if;
    else
      v_result := jsonb_build_object('outcome', 'ignored');
  end case;
  if v_result ->> 'outcome' = 'duplicate' then
    -- The order was applied by verify-payment or by the other event of the same payment.
    v_result := v_result || jsonb_build_object('outcome', 'applied');
  end if;

  -- A held payment was applied (its invoice recorded); the ledger's error says it is held.
  update tollgate_private.webhook_events w
  set processed_at = now(),
      outcome = case when v_result ->> 'outcome' = 'held' then 'applied' else v_result ->> 'outcome' end,
      error = v_result ->> 'error'
  where w.provider = 'razorpay' and w.event_id = apply_razorpay_event.event_id;

  return v_result || jsonb_build_object('event_id', apply_razorpay_event.event_id, 'type', v_type);
end;
$$;

comment on function tollgate_private.apply_razorpay_event(text, jsonb) is
  E'Records a verified Razorpay webhook (deduplicated by x-razorpay-event-id; without personal data when it names a user deleted since: webhook_event_row) and applies payment.captured and order.paid once per order (a held payment is recorded as applied, its error saying held); refund.created, refund.processed and refund.failed are recorded by refund id and settle the refunded invoice or purchase (record_refund); payment.failed and other types are recorded and acknowledged.';

revoke all on function tollgate_private.apply_razorpay_event(text, jsonb) from public, anon, authenticated, service_role;
