create function tollgate_private.record_refund(
  provider text,
  refund_id text,
  payment_id text,
  amount bigint,
  currency text,
  status text,
  event_at timestamptz,
  event_id text,
  reason text
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_payment tollgate_private.provider_refs;
  v_applied boolean;
  v_result jsonb;
  v_data jsonb;
begin
  if record_refund.refund_id is null or record_refund.amount is null or record_refund.status is null then
    raise exception 'Not a refund' using errcode = 'BADEV', hint = 'Expected a refund id, amount and status.';
  end if;
  -- The payment first, then the refund: every path locks in this order.
  select r.* into v_payment
  from tollgate_private.provider_refs r
  where r.provider = record_refund.provider
    and r.object_type = case record_refund.provider when 'stripe' then 'payment_intent' else 'payment' end
    and r.provider_id = record_refund.payment_id
  for update;
  if v_payment.local_id is null then
    return jsonb_build_object('outcome', 'unlinked',
      'error', format('refund %s: no Tollgate invoice or purchase paid by %s', record_refund.refund_id,
        coalesce(record_refund.payment_id, '(no payment)')));
  end if;

  -- GUARD: one row per refund id, whichever events and the admin route say it. An older event
  -- changes nothing; a final status (succeeded, processed, failed, canceled) is never replaced by a
  -- pending one, and replaces a pending one of the same second (providers' seconds tie).
  insert into tollgate_private.provider_refs as r (
    provider, object_type, provider_id, local_id, user_id, parent_id, details, last_event_at, last_event_id)
  values (record_refund.provider, 'refund', record_refund.refund_id, v_payment.local_id, v_payment.user_id,
    record_refund.payment_id,
    jsonb_build_object('amount', record_refund.amount, 'currency', lower(record_refund.currency),
      'status', record_refund.status),
    record_refund.event_at, record_refund.event_id)
  on conflict on constraint provider_refs_pkey do update
    set details = r.details || excluded.details,
        last_event_at = excluded.last_event_at,
        last_event_id = excluded.last_event_id
    where r.last_event_at is null
      or ((excluded.details ->> 'status' in ('succeeded', 'processed', 'failed', 'canceled'))::int
            >= (r.details ->> 'status' in ('succeeded', 'processed', 'failed', 'canceled'))::int
          and (excluded.last_event_at, excluded.last_event_id) > (r.last_event_at, r.last_event_id))
      or ((excluded.details ->> 'status' in ('succeeded', 'processed', 'failed', 'canceled'))::int
            > (r.details ->> 'status' in ('succeeded', 'processed', 'failed', 'canceled'))::int
          and excluded.last_event_at >= r.last_event_at);
  v_applied := found;
  if not v_applied then
    return jsonb_build_object('outcome', 'stale', 'refund_id', record_refund.refund_id);
  end if;

  v_result := tollgate_private.settle_payment_refunds(record_refund.provider, record_refund.payment_id,
    record_refund.reason);
  -- Once per refund: the dedupe key is the refund id, whichever event confirms it first.
  if record_refund.status in ('succeeded', 'processed') then
    v_data := tollgate_private.payment_notice_data(record_refund.provider, record_refund.payment_id);
    perform tollgate_private.notify(v_payment.user_id, 'payment_refunded',
      'payment_refunded:' || record_refund.provider || ':' || record_refund.refund_id,
      'Refund issued',
      -- Amounts are in the data (minor units): the email template formats them per currency.
      format('We refunded your payment%s.', coalesce(' for ' || coalesce(v_data ->> 'product_name', v_data ->> 'plan_name'), '')),
      (v_data - 'user_id') || jsonb_build_object('refund_id', record_refund.refund_id, 'amount', record_refund.amount,
        'currency', lower(coalesce(record_refund.currency, v_data ->> 'currency'))));
  end if;
  return v_result || jsonb_build_object('refund_id', record_refund.refund_id, 'refund_status', record_refund.status);
end;
$$;

comment on function tollgate_private.record_refund(text, text, text, bigint, text, text, timestamptz, text, text) is
  E'Records one provider refund (Stripe re_..., Razorpay rfnd_...) of a payment Tollgate knows (its pi_... or pay_... ref) as a provider_refs row keyed by the refund id, so the same refund seen through several events or the admin route counts once; an older event changes nothing and a final status is never replaced by a pending one. Then settles the payment''s invoice or purchase (settle_payment_refunds) and notifies payment_refunded once per refund when it succeeded. Outcome applied, stale or unlinked.';

revoke all on function tollgate_private.record_refund(text, text, text, bigint, text, text, timestamptz, text, text) from public, anon, authenticated, service_role;
