create view tollgate_private.subscriptions_by_status
with (security_invoker = true)
as
select s.status, s.provider, s.plan_id, count(*) as subscriptions,
  count(*) filter (where s.cancel_at_period_end) as cancelling,
  max(s.updated_at) as last_change
from tollgate.subscriptions s
group by s.status, s.provider, s.plan_id
order by s.status, s.provider, s.plan_id;

comment on view tollgate_private.subscriptions_by_status is
  E'For admins in Studio: how many subscriptions there are by status, provider and plan, ended ones included.';
comment on column tollgate_private.subscriptions_by_status.status is E'Subscription status.';
comment on column tollgate_private.subscriptions_by_status.provider is E'stripe, razorpay or internal.';
comment on column tollgate_private.subscriptions_by_status.plan_id is E'Plan id.';
comment on column tollgate_private.subscriptions_by_status.subscriptions is E'Number of subscriptions.';
comment on column tollgate_private.subscriptions_by_status.cancelling is E'Of those, how many are set to cancel at the end of their period.';
comment on column tollgate_private.subscriptions_by_status.last_change is E'When the most recent of them last changed.';
