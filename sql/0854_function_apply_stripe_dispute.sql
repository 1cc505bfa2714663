create function tollgate_private.apply_stripe_dispute(dispute jsonb, event_at timestamptz, event_id text)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  -- Decoded once (0809): every field below is read from here.
  v_dispute record := tollgate_private.stripe_dispute_fields(apply_stripe_dispute.dispute);
  v_payment_intent text := v_dispute.payment_intent;
  v_payment tollgate_private.provider_refs;
  v_before text;
  v_open boolean;
  v_was_open boolean;
  v_result jsonb;
  v_data jsonb;
  v_reason text := 'stripe:' || apply_stripe_dispute.event_id;
begin
  if v_dispute.id is null or v_dispute.status is null or v_dispute.amount is null then
    raise exception 'Not a Stripe dispute object' using errcode = 'BADEV';
  end if;
  if v_payment_intent is null then
    select r.parent_id into v_payment_intent
    from tollgate_private.provider_refs r
    where r.provider = 'stripe' and r.object_type = 'charge' and r.provider_id = v_dispute.charge;
  end if;
  select r.* into v_payment
  from tollgate_private.provider_refs r
  where r.provider = 'stripe' and r.object_type = 'payment_intent' and r.provider_id = v_payment_intent
  for update;
  if v_payment.local_id is null then
    return jsonb_build_object('outcome', 'unlinked',
      'error', format('dispute %s: no Tollgate invoice or purchase paid by %s', v_dispute.id, coalesce(v_payment_intent, '(no payment intent)')));
  end if;

  select r.details ->> 'status' into v_before
  from tollgate_private.provider_refs r
  where r.provider = 'stripe' and r.object_type = 'dispute' and r.provider_id = v_dispute.id;
  if not tollgate_private.advance_watermark('stripe', 'dispute', v_dispute.id, apply_stripe_dispute.event_at,
      apply_stripe_dispute.event_id, v_payment.local_id, v_payment.user_id, v_payment_intent) then
    return jsonb_build_object('outcome', 'stale', 'dispute_id', v_dispute.id);
  end if;
  update tollgate_private.provider_refs r
  set details = r.details || jsonb_build_object('amount', v_dispute.amount, 'currency', v_dispute.currency,
        'status', v_dispute.status, 'reason', v_dispute.reason)
  where r.provider = 'stripe' and r.object_type = 'dispute' and r.provider_id = v_dispute.id;

  v_result := tollgate_private.settle_payment_refunds('stripe', v_payment_intent, v_reason);

  v_open := v_dispute.status not in ('won', 'lost', 'warning_closed', 'prevented');
  v_was_open := v_before is not null and v_before not in ('won', 'lost', 'warning_closed', 'prevented');
  -- Opened, won or lost: audited on the disputed row, once per change of outcome (the row's own
  -- status change is audited by settle_payment_refunds).
  if v_open is distinct from v_was_open or (not v_open and v_before is distinct from v_dispute.status) then
    insert into tollgate_private.audit_log (
      table_name, record_id, user_id, action, old_values, new_values, actor_user_id, actor_role, reason)
    values (case when v_result ? 'purchase_id' then 'purchases' else 'invoices' end, v_payment.local_id,
      v_payment.user_id, 'update',
      case when v_before is not null then jsonb_build_object('dispute_id', v_dispute.id, 'dispute_status', v_before) end,
      jsonb_build_object('dispute_id', v_dispute.id, 'dispute_status', v_dispute.status, 'amount', v_dispute.amount,
        'currency', v_dispute.currency, 'dispute_reason', v_dispute.reason),
      tollgate_private.caller_id(), tollgate_private.caller_role(),
      format('%s dispute %s %s', v_reason, v_dispute.id, case when v_open then 'opened' else v_dispute.status end));
  end if;
  -- The buyer hears once per dispute, when it is first seen open.
  if v_open then
    v_data := tollgate_private.payment_notice_data('stripe', v_payment_intent);
    perform tollgate_private.notify(v_payment.user_id, 'dispute_opened', 'dispute_opened:stripe:' || v_dispute.id,
      'Payment disputed',
      format('Your bank told us you disputed a payment%s.', coalesce(' for ' || coalesce(v_data ->> 'product_name', v_data ->> 'plan_name'), '')),
      jsonb_strip_nulls((v_data - 'user_id') || jsonb_build_object('dispute_id', v_dispute.id, 'amount', v_dispute.amount,
        'currency', coalesce(v_dispute.currency, v_data ->> 'currency'), 'reason', v_dispute.reason)));
  end if;
  -- Lost: the bank gave the money back to the buyer, a refund in all but name; they hear it once.
  if v_dispute.status = 'lost' then
    v_data := tollgate_private.payment_notice_data('stripe', v_payment_intent);
    perform tollgate_private.notify(v_payment.user_id, 'payment_refunded', 'dispute_lost:stripe:' || v_dispute.id,
      'Disputed payment returned',
      format('Your bank decided the dispute in your favour: the payment%s was returned to you.',
        coalesce(' for ' || coalesce(v_data ->> 'product_name', v_data ->> 'plan_name'), '')),
      jsonb_strip_nulls((v_data - 'user_id') || jsonb_build_object('dispute_id', v_dispute.id, 'amount', v_dispute.amount,
        'currency', coalesce(v_dispute.currency, v_data ->> 'currency'), 'outcome', 'dispute_lost')));
  end if;
  return v_result || jsonb_build_object('dispute_id', v_dispute.id, 'dispute_status', v_dispute.status);
end;
$$;

comment on function tollgate_private.apply_stripe_dispute(jsonb, timestamptz, text) is
  E'Applies a Stripe dispute snapshot (charge.dispute.created, updated, closed, funds_*) unless a newer one was applied: keeps its status on the dispute''s ref and settles the disputed invoice or purchase (a purchase is disputed while it is open, refunded with its unused credits revoked when lost, back to paid when won). Opening and each outcome are audited; the buyer is notified dispute_opened once, and payment_refunded once when the dispute is lost (the money went back to them). Outcome applied, stale or unlinked.';

revoke all on function tollgate_private.apply_stripe_dispute(jsonb, timestamptz, text) from public, anon, authenticated, service_role;
