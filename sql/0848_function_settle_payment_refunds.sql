create function tollgate_private.settle_payment_refunds(provider text, payment_id text, reason text)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_payment tollgate_private.provider_refs;
  v_kind text;
  v_refunded bigint;
  v_floor bigint;
  v_lost bigint;
  v_open boolean;
  v_total bigint;
  v_purchase tollgate.purchases;
  v_invoice tollgate.invoices;
  v_status text;
  v_revoked bigint := 0;
begin
  -- The payment's ref (conventions: Stripe pi_..., Razorpay pay_...), locked: refunds and disputes
  -- of one payment are settled one after the other.
  select r.* into v_payment
  from tollgate_private.provider_refs r
  where r.provider = settle_payment_refunds.provider
    and r.object_type = case settle_payment_refunds.provider when 'stripe' then 'payment_intent' else 'payment' end
    and r.provider_id = settle_payment_refunds.payment_id
  for update;
  if v_payment.local_id is null then
    return jsonb_build_object('outcome', 'unlinked',
      'error', format('no Tollgate invoice or purchase paid by %s', settle_payment_refunds.payment_id));
  end if;
  -- Razorpay invoice payments predate details.kind: their local_id is an invoice.
  v_kind := coalesce(v_payment.details ->> 'kind', case
    when exists (select from tollgate.purchases p where p.id = v_payment.local_id) then 'purchase' else 'invoice' end);

  -- Every amount is recomputed from the refs, never added to: a refund seen through several events
  -- (charge.refunded, refund.created, refund.updated, the admin route's answer) is one re_... row.
  select coalesce(sum((r.details ->> 'amount')::bigint), 0)::bigint into v_refunded
  from tollgate_private.provider_refs r
  where r.provider = settle_payment_refunds.provider and r.object_type = 'refund'
    and r.parent_id = settle_payment_refunds.payment_id and r.details ->> 'status' in ('succeeded', 'processed');
  -- A charge snapshot without its refunds (API 2022-11-15 on) still says how much was refunded.
  select coalesce(max((r.details ->> 'amount_refunded')::bigint), 0)::bigint into v_floor
  from tollgate_private.provider_refs r
  where r.provider = settle_payment_refunds.provider and r.object_type = 'charge'
    and r.parent_id = settle_payment_refunds.payment_id;
  -- A lost dispute takes the money back as a refund would; Stripe never disputes more than was not
  -- refunded, so the two add up.
  select coalesce(sum((r.details ->> 'amount')::bigint) filter (where r.details ->> 'status' = 'lost'), 0)::bigint,
    coalesce(bool_or(r.details ->> 'status' not in ('won', 'lost', 'warning_closed', 'prevented')), false)
  into v_lost, v_open
  from tollgate_private.provider_refs r
  where r.provider = settle_payment_refunds.provider and r.object_type = 'dispute'
    and r.parent_id = settle_payment_refunds.payment_id;
  v_total := greatest(v_refunded, v_floor) + v_lost;

  if v_kind = 'purchase' then
    select p.* into v_purchase from tollgate.purchases p where p.id = v_payment.local_id for update;
    if v_purchase.id is null then
      return jsonb_build_object('outcome', 'unlinked', 'error', format('purchase %s is gone', v_payment.local_id));
    end if;
    v_total := least(v_total, v_purchase.amount_paid);
    v_status := case
      when v_open then 'disputed'
      when v_lost > 0 or (v_total > 0 and v_total >= v_purchase.amount_paid) then 'refunded'
      when v_total > 0 then 'partially_refunded'
      else 'paid' end;
    if (v_purchase.status, v_purchase.amount_refunded) is distinct from (v_status, v_total) then
      update tollgate.purchases p set status = v_status, amount_refunded = v_total where p.id = v_purchase.id;
      insert into tollgate_private.audit_log (
        table_name, record_id, user_id, action, old_values, new_values, actor_user_id, actor_role, reason)
      values ('purchases', v_purchase.id, v_purchase.user_id, 'update',
        jsonb_build_object('status', v_purchase.status, 'amount_refunded', v_purchase.amount_refunded),
        jsonb_build_object('status', v_status, 'amount_refunded', v_total),
        tollgate_private.caller_id(), tollgate_private.caller_role(), settle_payment_refunds.reason);
    end if;
    -- Refunded in full (or a lost dispute): the unused credits go back; used ones stay used, so no
    -- counter goes below zero. A partial refund keeps every credit (the simplest honest rule: the
    -- buyer keeps what was not refunded, and credits are not money).
    if v_status = 'refunded' then
      v_revoked := tollgate_private.revoke_purchase_credits(v_purchase.id);
    end if;
    return jsonb_build_object('outcome', 'applied', 'purchase_id', v_purchase.id, 'user_id', v_purchase.user_id,
      'status', v_status, 'amount_refunded', v_total, 'credits_revoked', v_revoked);
  end if;

  select i.* into v_invoice from tollgate.invoices i where i.id = v_payment.local_id for update;
  if v_invoice.id is null then
    return jsonb_build_object('outcome', 'unlinked', 'error', format('invoice %s is gone', v_payment.local_id));
  end if;
  v_total := least(v_total, v_invoice.amount_paid);
  if v_invoice.amount_refunded is distinct from v_total then
    update tollgate.invoices i set amount_refunded = v_total where i.id = v_invoice.id;
    insert into tollgate_private.audit_log (
      table_name, record_id, user_id, action, old_values, new_values, actor_user_id, actor_role, reason)
    values ('invoices', v_invoice.id, v_invoice.user_id, 'update',
      jsonb_build_object('amount_refunded', v_invoice.amount_refunded), jsonb_build_object('amount_refunded', v_total),
      tollgate_private.caller_id(), tollgate_private.caller_role(), settle_payment_refunds.reason);
  end if;
  return jsonb_build_object('outcome', 'applied', 'invoice_id', v_invoice.id, 'user_id', v_invoice.user_id,
    'amount_refunded', v_total, 'disputed', v_open);
end;
$$;

comment on function tollgate_private.settle_payment_refunds(text, text, text) is
  E'Recomputes what was taken back from one provider payment (Stripe pi_..., Razorpay pay_...) from its refund, charge and dispute refs, and writes it on the invoice or purchase it paid: amount_refunded (succeeded refunds, or the charge''s own amount_refunded when larger, plus lost disputes; never more than paid, never counted twice), and for a purchase its status (disputed while a dispute is open, refunded when all of it or a dispute was lost, else partially_refunded or paid). A purchase refunded loses its unused credits (revoke_purchase_credits); a partial refund keeps them. Every change is audited with reason.';

revoke all on function tollgate_private.settle_payment_refunds(text, text, text) from public, anon, authenticated, service_role;
