create function tollgate_private.apply_razorpay_payment(
  user_id uuid,
  order_id text,
  payment_id text,
  amount bigint,
  source text,
  as_of timestamptz
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_order tollgate_private.provider_refs;
  v_plan tollgate.plans;
  v_live tollgate.subscriptions;
  v_step interval;
  v_subscription_id uuid;
  v_invoice_id uuid;
  v_period_start timestamptz;
  v_period_end timestamptz;
  v_amount bigint;
begin
  -- GUARD: the order row is locked until commit; an order pays for one interval, once.
  select r.* into v_order
  from tollgate_private.provider_refs r
  where r.provider = 'razorpay' and r.object_type = 'order' and r.provider_id = apply_razorpay_payment.order_id
  for update;
  if v_order.provider_id is null then
    if apply_razorpay_payment.user_id is not null then
      raise exception 'Unknown order %', apply_razorpay_payment.order_id using errcode = 'NOORD';
    end if;
    return jsonb_build_object('outcome', 'unlinked', 'error', format('order %s was not created by Tollgate', apply_razorpay_payment.order_id));
  end if;
  if apply_razorpay_payment.user_id is not null and v_order.user_id is distinct from apply_razorpay_payment.user_id then
    raise exception 'This order is not yours' using errcode = 'NOTYR';
  end if;
  -- An order for a product: a purchase and its credits, not a plan (apply_purchase, once per order).
  if v_order.details ->> 'kind' = 'purchase' then
    return tollgate_private.apply_purchase('razorpay', apply_razorpay_payment.order_id, apply_razorpay_payment.user_id,
      apply_razorpay_payment.payment_id, coalesce(apply_razorpay_payment.amount, (v_order.details ->> 'amount')::bigint),
      v_order.details ->> 'currency', apply_razorpay_payment.source, apply_razorpay_payment.as_of);
  end if;
  if v_order.local_id is not null then
    return jsonb_build_object('outcome', 'duplicate', 'subscription_id', v_order.local_id, 'user_id', v_order.user_id);
  end if;
  if v_order.details ->> 'state' = 'held' then
    return jsonb_build_object('outcome', 'duplicate', 'held', true, 'user_id', v_order.user_id,
      'subscription_id', (v_order.details ->> 'live_subscription_id')::uuid,
      'invoice_id', (v_order.details ->> 'invoice_id')::uuid);
  end if;

  v_amount := (v_order.details ->> 'amount')::bigint;
  if apply_razorpay_payment.amount is not null and apply_razorpay_payment.amount <> v_amount then
    if apply_razorpay_payment.user_id is not null then
      raise exception 'The payment does not match the order amount' using errcode = 'PAYMM',
        detail = format('paid %s, order %s', apply_razorpay_payment.amount, v_amount);
    end if;
    return jsonb_build_object('outcome', 'unlinked', 'error', format('paid %s, order %s', apply_razorpay_payment.amount, v_amount));
  end if;

  select p.* into v_plan from tollgate.plans p where p.id = v_order.details ->> 'plan_id';
  v_step := case v_plan."interval" when 'year' then interval '1 year' else interval '1 month' end;

  perform pg_advisory_xact_lock(hashtextextended('tollgate.user:' || v_order.user_id::text, 0));
  perform set_config('tollgate.audit_reason', 'razorpay:' || apply_razorpay_payment.source, true);

  select s.* into v_live
  from tollgate.subscriptions s
  where s.user_id = v_order.user_id and s.status = any (tollgate_private.live_statuses());

  if v_live.provider = 'stripe'
    or (v_live.provider = 'razorpay' and v_live.plan_id <> v_plan.id and v_live.status = any (tollgate_private.good_standing_statuses())
      and v_live.current_period_end > apply_razorpay_payment.as_of) then
    -- HELD. A paid period is never thrown away, nor is a plan Stripe bills replaced by a one-off
    -- payment: an order for another plan captured while one runs (an older order paid late, or
    -- a race with the checkout's refusal) changes no subscription. The money is recorded as a
    -- paid invoice of no period, the order is marked held and audited for an operator (refund
    -- it, or grant the plan when the paid period ends); the same order applied again is a no-op.
    insert into tollgate.invoices (
      user_id, subscription_id, provider, number, status, currency, amount_due, amount_paid, paid_at)
    values (
      v_order.user_id, null, 'razorpay', apply_razorpay_payment.order_id, 'paid',
      coalesce(v_order.details ->> 'currency', v_plan.currency), v_amount, v_amount, apply_razorpay_payment.as_of)
    returning id into v_invoice_id;
    update tollgate_private.provider_refs r
    set details = r.details || jsonb_build_object(
          'state', 'held', 'invoice_id', v_invoice_id, 'live_subscription_id', v_live.id,
          'held_because', format('%s %s paid until %s', v_live.provider, v_live.plan_id, v_live.current_period_end)),
        last_event_at = apply_razorpay_payment.as_of, last_event_id = apply_razorpay_payment.source
    where r.provider = 'razorpay' and r.object_type = 'order' and r.provider_id = apply_razorpay_payment.order_id;
    insert into tollgate_private.provider_refs (provider, object_type, provider_id, local_id, user_id, parent_id)
    values ('razorpay', 'payment', apply_razorpay_payment.payment_id, v_invoice_id, v_order.user_id, apply_razorpay_payment.order_id)
    on conflict do nothing;
    insert into tollgate_private.audit_log (
      table_name, record_id, user_id, action, old_values, new_values, actor_user_id, actor_role, reason)
    values (
      'invoices', v_invoice_id, v_order.user_id, 'insert', null,
      jsonb_build_object('order_id', apply_razorpay_payment.order_id, 'plan_id', v_plan.id, 'amount_paid', v_amount,
        'state', 'held', 'live_subscription_id', v_live.id, 'live_plan_id', v_live.plan_id),
      tollgate_private.caller_id(), tollgate_private.caller_role(),
      format('razorpay:%s held: order %s for %s paid while %s %s runs until %s; refund it or grant it',
        apply_razorpay_payment.source, apply_razorpay_payment.order_id, v_plan.id, v_live.provider, v_live.plan_id,
        v_live.current_period_end));
    if v_order.details ->> 'checkout_id' is not null then
      perform tollgate_private.settle_coupon(v_order.details ->> 'checkout_id', true);
    end if;
    return jsonb_build_object('outcome', 'held', 'subscription_id', v_live.id, 'user_id', v_order.user_id,
      'invoice_id', v_invoice_id,
      'error', format('held: %s %s runs until %s', v_live.provider, v_live.plan_id, v_live.current_period_end));
  end if;

  if v_live.provider = 'razorpay' and v_live.plan_id = v_plan.id then
    if v_live.current_period_end > apply_razorpay_payment.as_of then
      -- On time: one more interval from the paid end; quota months keep their anchor (whole months).
      v_period_start := v_live.current_period_end;
      v_period_end := (v_period_start at time zone 'UTC' + v_step) at time zone 'UTC';
      update tollgate.subscriptions s
      set status = 'active', current_period_start = v_period_start, current_period_end = v_period_end,
          cancel_at_period_end = false, canceled_at = null
      where s.id = v_live.id;
    else
      -- Late (in grace or after): a new paid period starts at the payment, and quota months with it.
      v_period_start := apply_razorpay_payment.as_of;
      -- In UTC wall time, like usage periods: the session's time zone must not move the end.
      v_period_end := (v_period_start at time zone 'UTC' + v_step) at time zone 'UTC';
      update tollgate.subscriptions s
      set status = 'active', current_period_start = v_period_start, current_period_end = v_period_end,
          billing_cycle_anchor = v_period_start, cancel_at_period_end = false, canceled_at = null
      where s.id = v_live.id;
    end if;
    v_subscription_id := v_live.id;
  else
    -- Nothing paid runs (none live, or an internal grant, or a Razorpay period that has run out).
    if v_live.id is not null then
      update tollgate.subscriptions s
      set status = 'canceled', canceled_at = coalesce(s.canceled_at, apply_razorpay_payment.as_of),
          ended_at = apply_razorpay_payment.as_of
      where s.id = v_live.id;
    end if;
    v_period_start := apply_razorpay_payment.as_of;
    -- In UTC wall time, like usage periods: the session's time zone must not move the end.
    v_period_end := (v_period_start at time zone 'UTC' + v_step) at time zone 'UTC';
    insert into tollgate.subscriptions (
      user_id, plan_id, status, provider, current_period_start, current_period_end, billing_cycle_anchor)
    values (v_order.user_id, v_plan.id, 'active', 'razorpay', v_period_start, v_period_end, v_period_start)
    returning id into v_subscription_id;
  end if;

  insert into tollgate.invoices (
    user_id, subscription_id, provider, number, status, currency, amount_due, amount_paid,
    period_start, period_end, paid_at)
  values (
    v_order.user_id, v_subscription_id, 'razorpay', apply_razorpay_payment.order_id, 'paid',
    coalesce(v_order.details ->> 'currency', v_plan.currency), v_amount, v_amount, v_period_start, v_period_end,
    apply_razorpay_payment.as_of)
  returning id into v_invoice_id;

  update tollgate_private.provider_refs r
  set local_id = v_subscription_id, last_event_at = apply_razorpay_payment.as_of,
      last_event_id = apply_razorpay_payment.source
  where r.provider = 'razorpay' and r.object_type = 'order' and r.provider_id = apply_razorpay_payment.order_id;
  insert into tollgate_private.provider_refs (provider, object_type, provider_id, local_id, user_id, parent_id)
  values ('razorpay', 'payment', apply_razorpay_payment.payment_id, v_invoice_id, v_order.user_id, apply_razorpay_payment.order_id)
  on conflict do nothing;
  if v_order.details ->> 'checkout_id' is not null then
    perform tollgate_private.settle_coupon(v_order.details ->> 'checkout_id', true);
  end if;

  return jsonb_build_object('outcome', 'applied', 'subscription_id', v_subscription_id, 'user_id', v_order.user_id,
    'invoice_id', v_invoice_id);
end;
$$;

comment on function tollgate_private.apply_razorpay_payment(uuid, text, text, bigint, text, timestamptz) is
  E'Applies a captured Razorpay payment of an order Tollgate created: activates the order''s plan for one interval, or renews the same plan (on time: from the end of the paid period; late: a new paid period and quota month from the payment), records a paid invoice, redeems the coupon. A payment for another plan while a paid Razorpay period runs, or while a Stripe subscription is live, changes no subscription: outcome held (paid invoice without a period, order marked held, audited for an operator). Once per order, whichever of verify-payment and webhook comes first. user_id (verify-payment) must own the order (NOTYR); amount, when given, must match it. An order for a product is applied by apply_purchase instead (a purchase and its credits; outcome applied or duplicate with purchase_id, or unlinked when the amount differs).';

revoke all on function tollgate_private.apply_razorpay_payment(uuid, text, text, bigint, text, timestamptz) from public, anon, authenticated, service_role;
