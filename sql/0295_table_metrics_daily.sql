create table tollgate_private.metrics_daily (
  day date not null,
  currency text not null check (currency ~ '^[a-z]{3}$'),
  mrr bigint not null check (mrr >= 0),
  active_subscriptions integer not null check (active_subscriptions >= 0),
  new_subscriptions integer not null check (new_subscriptions >= 0),
  churned_subscriptions integer not null check (churned_subscriptions >= 0),
  computed_at timestamptz not null default now(),
  primary key (day, currency)
);

comment on table tollgate_private.metrics_daily is
  E'Revenue figures at the end of each UTC day and currency, written once per day by maintenance (snapshot_metrics) from the subscription audit trail; a missed day is filled from the same trail. tollgate.metrics_history reads it.';
comment on column tollgate_private.metrics_daily.day is E'The UTC day; figures are as at its end (midnight after it).';
comment on column tollgate_private.metrics_daily.currency is E'Lower-case ISO 4217 currency of the plans counted.';
comment on column tollgate_private.metrics_daily.mrr is E'Monthly recurring revenue at the end of the day, minor units (see tollgate.admin_metrics for the definition).';
comment on column tollgate_private.metrics_daily.active_subscriptions is E'Paying subscriptions (active or past_due, Stripe or Razorpay) at the end of the day.';
comment on column tollgate_private.metrics_daily.new_subscriptions is E'Users paying at the end of the day who were not paying at its start.';
comment on column tollgate_private.metrics_daily.churned_subscriptions is E'Users paying at the start of the day who were not paying at its end.';
comment on column tollgate_private.metrics_daily.computed_at is E'When the row was written.';

alter table tollgate_private.metrics_daily enable row level security;

-- Only Tollgate's own functions (running as the owner) read or write it.
create policy "Clients never read or write daily metrics" on tollgate_private.metrics_daily
  as restrictive
  for all to anon, authenticated
  using (false)
  with check (false);
