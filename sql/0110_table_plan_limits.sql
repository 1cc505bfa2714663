create table tollgate.plan_limits (
  plan_id text not null references tollgate.plans (id) on update cascade on delete cascade,
  metric text not null check (metric ~ '^[a-z][a-z0-9_]{0,62}$'),
  quota bigint not null check (quota >= -1),
  period text not null default 'month' check (period in ('hour', 'day', 'month', 'never')),
  carry_over boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (plan_id, metric),
  -- A never-resetting gauge (projects, seats) counts what exists; there is nothing to carry over.
  constraint plan_limits_no_carry_over_on_gauges check (not (carry_over and period = 'never'))
);

comment on table tollgate.plan_limits is
  E'How much of each metric a plan allows per period. A metric missing from a plan has quota 0 on it.';
comment on column tollgate.plan_limits.plan_id is E'The plan this limit belongs to.';
comment on column tollgate.plan_limits.metric is E'What is counted, e.g. api_calls, projects, storage_gb.';
comment on column tollgate.plan_limits.quota is E'How much may be used per period; -1 means unlimited.';
comment on column tollgate.plan_limits.period is
  E'When the count resets: hour, day, month (billing month of the subscription, calendar month on free) or never (a gauge).';
comment on column tollgate.plan_limits.carry_over is
  E'When an upgrade to this plan starts a new paid period (a new subscription, a paid order, a reset billing cycle), the unused quota of the old period is added to it (a debt when negative). A prorated change inside a period carries nothing and never resets usage.';
comment on column tollgate.plan_limits.created_at is E'When the limit was created.';
comment on column tollgate.plan_limits.updated_at is E'When the limit was last changed.';

alter table tollgate.plan_limits enable row level security;

create policy "Anyone can read plan limits" on tollgate.plan_limits
  for select to anon
  using (true);
create policy "Signed-in users can read plan limits" on tollgate.plan_limits
  for select to authenticated
  using (true);

grant select on tollgate.plan_limits to anon, authenticated, service_role;

create trigger _100_set_updated_at
  before update on tollgate.plan_limits
  for each row execute function tollgate_private.tg__set_updated_at();
