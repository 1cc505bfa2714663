create view tollgate.usage
with (security_invoker = true)
as
select u.user_id, u.metric, u.period, u.period_start, u.period_end, u.used, u.quota, u.remaining, u.credits
from tollgate_private.usage_of_caller() u;

comment on view tollgate.usage is
  E'Your usage now: one row per metric of your current plan (admins see every user).';
comment on column tollgate.usage.user_id is E'Whose usage.';
comment on column tollgate.usage.metric is E'What is counted.';
comment on column tollgate.usage.period is E'hour, day, month or never.';
comment on column tollgate.usage.period_start is E'Start of the current period.';
comment on column tollgate.usage.period_end is E'When the count resets; null for never.';
comment on column tollgate.usage.used is E'Used in the current period.';
comment on column tollgate.usage.quota is E'Allowed in the current period; -1 = unlimited.';
comment on column tollgate.usage.remaining is E'Still available; null when unlimited.';
comment on column tollgate.usage.credits is E'Credits of this metric you can still use (bought or granted, not expired); consume_usage draws them once the quota is spent.';

grant select on tollgate.usage to authenticated, service_role;
