create table tollgate.subscriptions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  plan_id text not null references tollgate.plans (id) on update cascade,
  status text not null check (
    status in ('trialing', 'active', 'past_due', 'unpaid', 'canceled', 'incomplete', 'incomplete_expired', 'paused')
  ),
  provider text not null check (provider in ('stripe', 'razorpay', 'internal')),
  current_period_start timestamptz,
  current_period_end timestamptz,
  billing_cycle_anchor timestamptz,
  cancel_at_period_end boolean not null default false,
  canceled_at timestamptz,
  ended_at timestamptz,
  trial_end timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint subscriptions_period_order check (current_period_end > current_period_start)
);

-- At most one live subscription per user: the plan a user is on must never be ambiguous.
create unique index subscriptions_one_live_per_user
  on tollgate.subscriptions (user_id)
  where status = any (tollgate_private.live_statuses());
create index subscriptions_user_id_idx on tollgate.subscriptions (user_id);
create index subscriptions_plan_id_idx on tollgate.subscriptions (plan_id);

comment on table tollgate.subscriptions is
  E'Each user''s subscriptions, written only by Tollgate (checkout, payment webhooks, maintenance). The live one (trialing, active, past_due, unpaid or paused; at most one per user) decides the user''s plan.';
comment on index tollgate.subscriptions_one_live_per_user is
  E'Enforces at most one live (trialing, active, past_due, unpaid or paused) subscription per user. incomplete ones (first payment not made yet) may exist beside it.';
comment on column tollgate.subscriptions.id is E'Subscription id.';
comment on column tollgate.subscriptions.user_id is E'The subscriber (auth.users).';
comment on column tollgate.subscriptions.plan_id is E'The plan subscribed to.';
comment on column tollgate.subscriptions.status is
  E'trialing, active, past_due (keeps the plan for the grace period after what was paid for: from the failed renewal for Stripe, whose last paid invoice says when that was; from current_period_end for one-off payments), unpaid, canceled, incomplete, incomplete_expired or paused (these fall back to free).';
comment on column tollgate.subscriptions.provider is E'Who bills it: stripe, razorpay or internal (granted by Tollgate itself).';
comment on column tollgate.subscriptions.current_period_start is E'Start of the period paid for.';
comment on column tollgate.subscriptions.current_period_end is E'End of the period paid for; renewals move it.';
comment on column tollgate.subscriptions.billing_cycle_anchor is
  E'The moment monthly usage periods are counted from (month boundaries fall on its day of month); defaults to the first current_period_start.';
comment on column tollgate.subscriptions.cancel_at_period_end is E'True when the subscription ends at current_period_end instead of renewing.';
comment on column tollgate.subscriptions.canceled_at is E'When cancellation was requested.';
comment on column tollgate.subscriptions.ended_at is E'When the subscription stopped, if it has.';
comment on column tollgate.subscriptions.trial_end is E'End of the free trial, if any.';
comment on column tollgate.subscriptions.created_at is E'When Tollgate first recorded the subscription.';
comment on column tollgate.subscriptions.updated_at is E'When the row was last changed.';

alter table tollgate.subscriptions enable row level security;

create policy "Users read their own subscriptions, admins read all" on tollgate.subscriptions
  for select to authenticated
  using (user_id = (select auth.uid()) or (select tollgate_private.is_admin()));

grant select on tollgate.subscriptions to authenticated, service_role;

create trigger _100_set_updated_at
  before update on tollgate.subscriptions
  for each row execute function tollgate_private.tg__set_updated_at();
