create function tollgate_private.tg_invoices__notify()
returns trigger
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_plan tollgate.plans;
begin
  if new.status <> 'paid' or new.amount_paid <= 0
    or (tg_op = 'UPDATE' and old.status = 'paid') then
    return null;
  end if;
  select p.* into v_plan
  from tollgate.subscriptions s
  join tollgate.plans p on p.id = s.plan_id
  where s.id = new.subscription_id;
  perform tollgate_private.notify(new.user_id, 'payment_succeeded',
    'payment_succeeded:' || new.id::text,
    'Payment received',
    case when v_plan.id is null then 'Thank you: your payment was received.'
      else format('Thank you: your payment for the %s plan was received.', v_plan.name) end,
    jsonb_strip_nulls(jsonb_build_object('invoice_id', new.id, 'number', new.number,
      'plan_id', v_plan.id, 'plan_name', v_plan.name,
      'amount', new.amount_paid, 'currency', new.currency,
      'hosted_invoice_url', new.hosted_invoice_url, 'period_end', new.period_end)));
  return null;
end;
$$;

comment on function tollgate_private.tg_invoices__notify() is
  E'Trigger: notifies payment_succeeded once when an invoice with a payment becomes paid (Stripe or Razorpay), with the amount, currency and invoice link.';

revoke all on function tollgate_private.tg_invoices__notify() from public, anon, authenticated, service_role;

create trigger _600_notify
  after insert or update of status on tollgate.invoices
  for each row
  when (new.status = 'paid')
  execute function tollgate_private.tg_invoices__notify();
