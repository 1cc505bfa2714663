create table tollgate_private.usage_counters (
  user_id uuid not null references auth.users (id) on delete cascade,
  metric text not null,
  plan_id text not null references tollgate.plans (id) on update cascade on delete cascade,
  period text not null check (period in ('hour', 'day', 'month', 'never')),
  anchor timestamptz,
  period_start timestamptz not null,
  period_end timestamptz,
  used bigint not null default 0 check (used >= 0),
  quota bigint not null check (quota >= -1),
  base_quota bigint not null check (base_quota >= -1),
  valid_until timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  carried bigint not null default 0,
  may_have_credits boolean not null default true,
  primary key (user_id, metric),
  constraint usage_counters_period_end_matches_period check ((period = 'never') = (period_end is null))
);

-- The scheduled maintenance finds what has to roll or be re-checked without scanning every counter.
create index usage_counters_period_end_idx on tollgate_private.usage_counters (period_end);
create index usage_counters_valid_until_idx on tollgate_private.usage_counters (valid_until);
create index usage_counters_plan_id_metric_idx on tollgate_private.usage_counters (plan_id, metric);

comment on table tollgate_private.usage_counters is
  E'The current period''s usage of each user and metric, with the quota that applies to it. consume_usage changes a row with one conditional update, so no race can overdraw it.';
comment on column tollgate_private.usage_counters.user_id is E'The user (auth.users).';
comment on column tollgate_private.usage_counters.metric is E'What is counted.';
comment on column tollgate_private.usage_counters.plan_id is E'The plan the quota was taken from.';
comment on column tollgate_private.usage_counters.period is E'hour, day, month or never, as on the plan limit.';
comment on column tollgate_private.usage_counters.anchor is E'Monthly periods start on this moment''s day of month (null = calendar months, UTC).';
comment on column tollgate_private.usage_counters.period_start is E'Start of the current period.';
comment on column tollgate_private.usage_counters.period_end is E'End of the current period (exclusive); null for never-resetting gauges.';
comment on column tollgate_private.usage_counters.used is E'Amount used in the current period.';
comment on column tollgate_private.usage_counters.quota is E'Amount allowed in the current period: base_quota plus carried (never below 0), or only what was used in a period nothing paid for; -1 = unlimited.';
comment on column tollgate_private.usage_counters.base_quota is E'The plan''s own quota for the metric, without carry-over; -1 = unlimited.';
comment on column tollgate_private.usage_counters.valid_until is
  E'When the plan behind this quota must be checked again (end of a past_due grace, of a cancelled period, of a one-off payment); null = until the subscription changes.';
comment on column tollgate_private.usage_counters.carried is
  E'Carry-over brought into the current period when an upgrade started it (what the old period left; negative = a debt); 0 otherwise. Plan changes inside the period keep it.';
comment on column tollgate_private.usage_counters.may_have_credits is
  E'Hint for consume_usage: false = the user holds no usable credits of this metric, so no credit is looked up. New counters start true and grant_credits sets it; a consume that decides on the locked row (the first consume that makes a counter, the first of a new period, any consume past the quota) and finds no usable credits (none granted, used up, expired, revoked) clears it. true may be stale, false never is.';
comment on column tollgate_private.usage_counters.created_at is E'When the counter was created.';
comment on column tollgate_private.usage_counters.updated_at is E'When the counter last changed.';

alter table tollgate_private.usage_counters enable row level security;

-- Only Tollgate's own functions (running as the owner) read or write it.
create policy "Clients never read or write usage counters" on tollgate_private.usage_counters
  as restrictive
  for all to anon, authenticated
  using (false)
  with check (false);
