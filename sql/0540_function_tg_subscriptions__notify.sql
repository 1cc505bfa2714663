create function tollgate_private.tg_subscriptions__notify()
returns trigger
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_plan tollgate.plans;
  v_old_plan tollgate.plans;
  v_invoice tollgate.invoices;
  v_at text := extract(epoch from new.updated_at)::text;
begin
  select p.* into v_plan from tollgate.plans p where p.id = new.plan_id;

  if not old.cancel_at_period_end and new.cancel_at_period_end
    and new.status = any (tollgate_private.live_statuses()) then
    perform tollgate_private.notify(new.user_id, 'cancel_scheduled',
      'cancel_scheduled:' || new.id::text || ':' || v_at,
      format('Your %s plan ends on %s', coalesce(v_plan.name, new.plan_id),
        pg_catalog.to_char(new.current_period_end at time zone 'UTC', 'FMMonth FMDD, YYYY')),
      'It will not renew. You keep everything it includes until then, and can resume it before it ends.',
      jsonb_build_object('plan_id', new.plan_id, 'plan_name', v_plan.name,
        'ends_at', new.current_period_end, 'subscription_id', new.id));
  end if;

  if old.plan_id is distinct from new.plan_id and new.status = any (tollgate_private.plan_statuses()) then
    select p.* into v_old_plan from tollgate.plans p where p.id = old.plan_id;
    perform tollgate_private.notify(new.user_id, 'plan_changed',
      'plan_changed:' || new.id::text || ':' || old.plan_id || ':' || new.plan_id || ':' || v_at,
      format('You are now on the %s plan', coalesce(v_plan.name, new.plan_id)),
      format('Your plan changed from %s to %s. Your quotas follow the new plan from now on.',
        coalesce(v_old_plan.name, old.plan_id), coalesce(v_plan.name, new.plan_id)),
      jsonb_build_object('plan_id', new.plan_id, 'plan_name', v_plan.name,
        'previous_plan_id', old.plan_id, 'previous_plan_name', v_old_plan.name,
        'subscription_id', new.id));
  end if;

  if old.status = any (tollgate_private.good_standing_statuses()) and new.status = 'past_due' then
    -- The open invoice of the subscription when it is known; the plan's price otherwise.
    select i.* into v_invoice
    from tollgate.invoices i
    where i.subscription_id = new.id and i.status = 'open'
    order by i.created_at desc
    limit 1;
    perform tollgate_private.notify(new.user_id, 'payment_failed',
      'payment_failed:' || new.id::text || ':' || coalesce(extract(epoch from new.current_period_start)::text, v_at),
      'Your payment failed',
      format('We could not take the payment for your %s plan. Update your payment method to keep it.',
        coalesce(v_plan.name, new.plan_id)),
      jsonb_strip_nulls(jsonb_build_object('plan_id', new.plan_id, 'plan_name', v_plan.name,
        'amount', coalesce(v_invoice.amount_due, v_plan.amount),
        'currency', coalesce(v_invoice.currency, v_plan.currency),
        'hosted_invoice_url', v_invoice.hosted_invoice_url,
        -- When the plan ends without a payment: the entitlement's valid_until (from the failure
        -- for Stripe, which already moved the period; from the paid period's end otherwise).
        'grace_ends_at', (select e.valid_until from tollgate_private.entitlement(new.user_id, now()) e),
        'subscription_id', new.id)));
  end if;
  return null;
end;
$$;

comment on function tollgate_private.tg_subscriptions__notify() is
  E'Trigger: notifies the user, in the same transaction, when a subscription is set to cancel at period end (cancel_scheduled), changes plan while it gives one (plan_changed), or falls from active or trialing to past_due (payment_failed, with the open invoice or the plan''s price). Each once per change (dedupe keys); a re-delivered event changes nothing and notifies nothing.';

revoke all on function tollgate_private.tg_subscriptions__notify() from public, anon, authenticated, service_role;

create trigger _600_notify
  after update on tollgate.subscriptions
  for each row
  when (old.cancel_at_period_end is distinct from new.cancel_at_period_end
    or old.plan_id is distinct from new.plan_id
    or old.status is distinct from new.status)
  execute function tollgate_private.tg_subscriptions__notify();
