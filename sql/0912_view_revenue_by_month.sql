create view tollgate_private.revenue_by_month
with (security_invoker = true)
as
select r.month, r.currency,
  count(*) filter (where r.kind = 'invoice') as invoices_paid,
  coalesce(sum(r.paid) filter (where r.kind = 'invoice'), 0)::bigint as invoice_revenue,
  count(*) filter (where r.kind = 'purchase') as purchases,
  coalesce(sum(r.paid) filter (where r.kind = 'purchase'), 0)::bigint as purchase_revenue,
  coalesce(sum(r.refunded), 0)::bigint as refunded,
  coalesce(sum(r.paid - r.refunded), 0)::bigint as net_revenue
from (
  select date_trunc('month', i.paid_at at time zone 'UTC')::date as month, i.currency, 'invoice' as kind,
    i.amount_paid as paid, i.amount_refunded as refunded
  from tollgate.invoices i
  where i.status = 'paid' and i.paid_at is not null
  union all
  select date_trunc('month', p.paid_at at time zone 'UTC')::date as month, p.currency, 'purchase' as kind,
    p.amount_paid as paid, p.amount_refunded as refunded
  from tollgate.purchases p
) r
group by r.month, r.currency
order by r.month desc, r.currency;

comment on view tollgate_private.revenue_by_month is
  E'For admins in Studio: money collected per UTC calendar month and currency, from paid invoices and purchases (by the month they were paid), with what has been refunded of them since.';
comment on column tollgate_private.revenue_by_month.month is E'First day of the month (UTC).';
comment on column tollgate_private.revenue_by_month.currency is E'Currency, lower case.';
comment on column tollgate_private.revenue_by_month.invoices_paid is E'Invoices paid that month.';
comment on column tollgate_private.revenue_by_month.invoice_revenue is E'What they paid, minor units.';
comment on column tollgate_private.revenue_by_month.purchases is E'One-time purchases paid that month.';
comment on column tollgate_private.revenue_by_month.purchase_revenue is E'What they paid, minor units.';
comment on column tollgate_private.revenue_by_month.refunded is E'Refunded of those payments so far, minor units.';
comment on column tollgate_private.revenue_by_month.net_revenue is E'Paid minus refunded, minor units.';
