create view tollgate_private.failed_payments
with (security_invoker = true)
as
select i.id as invoice_id, i.user_id, u.email, s.plan_id, s.status as subscription_status, s.provider,
  i.number, i.status as invoice_status, i.amount_due, i.currency, i.hosted_invoice_url,
  i.created_at, s.current_period_end
from tollgate.invoices i
join tollgate.subscriptions s on s.id = i.subscription_id
left join auth.users u on u.id = i.user_id
where i.status in ('open', 'uncollectible')
  and s.status in ('past_due', 'unpaid', 'incomplete')
order by i.created_at desc;

comment on view tollgate_private.failed_payments is
  E'For admins in Studio: invoices still unpaid (open or uncollectible) of subscriptions whose payment failed (past_due, unpaid, incomplete): who to contact, for how much, and the page where they can pay.';
comment on column tollgate_private.failed_payments.invoice_id is E'Invoice id.';
comment on column tollgate_private.failed_payments.user_id is E'The customer (auth.users).';
comment on column tollgate_private.failed_payments.email is E'The customer''s email.';
comment on column tollgate_private.failed_payments.plan_id is E'Plan of the subscription.';
comment on column tollgate_private.failed_payments.subscription_status is E'past_due, unpaid or incomplete.';
comment on column tollgate_private.failed_payments.provider is E'stripe or razorpay.';
comment on column tollgate_private.failed_payments.number is E'The provider''s invoice number.';
comment on column tollgate_private.failed_payments.invoice_status is E'open or uncollectible.';
comment on column tollgate_private.failed_payments.amount_due is E'Amount due, minor units.';
comment on column tollgate_private.failed_payments.currency is E'Currency, lower case.';
comment on column tollgate_private.failed_payments.hosted_invoice_url is E'Page where the customer can pay.';
comment on column tollgate_private.failed_payments.created_at is E'When the invoice was created.';
comment on column tollgate_private.failed_payments.current_period_end is E'End of the subscription''s current period.';
