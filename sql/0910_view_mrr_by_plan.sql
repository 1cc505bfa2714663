create view tollgate_private.mrr_by_plan
with (security_invoker = true)
as
select p.id as plan_id, p.name as plan_name, p.currency, p."interval",
  count(x.subscription_id) as subscriptions,
  count(x.subscription_id) filter (where x.status = 'past_due') as past_due,
  coalesce(round(sum(x.monthly_amount))::bigint, 0) as mrr
from tollgate.plans p
left join tollgate_private.subscription_states_at(now()) x
  on x.plan_id = p.id and x.status in ('active', 'past_due') and x.provider in ('stripe', 'razorpay')
group by p.id, p.name, p.currency, p."interval"
order by mrr desc, p.id;

comment on view tollgate_private.mrr_by_plan is
  E'For admins in Studio: each plan''s paying subscriptions (Stripe or Razorpay, active or past_due) now and the monthly recurring revenue they bring (after recurring coupon discounts; yearly plans / 12), as tollgate.admin_metrics counts it, in minor units of the plan''s currency.';
comment on column tollgate_private.mrr_by_plan.plan_id is E'Plan id.';
comment on column tollgate_private.mrr_by_plan.plan_name is E'Plan name.';
comment on column tollgate_private.mrr_by_plan.currency is E'Currency of the plan and of mrr.';
comment on column tollgate_private.mrr_by_plan."interval" is E'month or year.';
comment on column tollgate_private.mrr_by_plan.subscriptions is E'Paying subscriptions on the plan now.';
comment on column tollgate_private.mrr_by_plan.past_due is E'Of those, how many are past_due (a renewal failed).';
comment on column tollgate_private.mrr_by_plan.mrr is E'Monthly recurring revenue, minor units.';
