create function tollgate_private.snapshot_metrics(as_of timestamptz)
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  -- Never a day that has not ended in real time: a run at a simulated later as_of (tests) writes no
  -- figure of a day that is still to come.
  v_until date := (least(snapshot_metrics.as_of, now()) at time zone 'UTC')::date - 1;
  v_day date;
  v_start timestamptz;
  v_end timestamptz;
  v_days integer := 0;
begin
  -- Complete UTC days only, from the day after the newest snapshot (or the first audited
  -- subscription) up to yesterday, at most a year back: a missed day is filled from the audit trail.
  select max(m.day) + 1 into v_day from tollgate_private.metrics_daily m;
  if v_day is null then
    select (min(a.occurred_at) at time zone 'UTC')::date into v_day
    from tollgate_private.audit_log a where a.table_name = 'subscriptions';
  end if;
  v_day := greatest(coalesce(v_day, v_until), v_until - 365);

  while v_day <= v_until loop
    v_start := v_day::timestamp at time zone 'UTC';
    v_end := (v_day + 1)::timestamp at time zone 'UTC';
    insert into tollgate_private.metrics_daily (
      day, currency, mrr, active_subscriptions, new_subscriptions, churned_subscriptions)
    with
    at_end as (
      select * from tollgate_private.subscription_states_at(v_end) e
      where e.status in ('active', 'past_due') and e.provider in ('stripe', 'razorpay')
    ),
    at_start as (
      select * from tollgate_private.subscription_states_at(v_start) s
      where s.status in ('active', 'past_due') and s.provider in ('stripe', 'razorpay')
    ),
    currencies as (
      select p.currency from tollgate.plans p
      union select e.currency from at_end e
      union select s.currency from at_start s
    )
    select v_day, c.currency,
      coalesce((select round(sum(e.monthly_amount))::bigint from at_end e where e.currency = c.currency), 0),
      (select count(*) from at_end e where e.currency = c.currency),
      (select count(distinct e.user_id) from at_end e
        where e.currency = c.currency and not exists (select from at_start s where s.user_id = e.user_id)),
      (select count(distinct s.user_id) from at_start s
        where s.currency = c.currency and not exists (select from at_end e where e.user_id = s.user_id))
    from currencies c
    -- Two maintenance runs at once: the second writes nothing for a day the first wrote.
    on conflict (day, currency) do nothing;
    v_days := v_days + 1;
    v_day := v_day + 1;
  end loop;
  return v_days;
end;
$$;

comment on function tollgate_private.snapshot_metrics(timestamptz) is
  E'Writes tollgate_private.metrics_daily for every complete UTC day before as_of (and before now) not written yet (at most a year back), computed from the subscription audit trail as at the end of each day. Running it again for a day changes nothing. Returns the number of days looked at. Called by maintenance.';

revoke all on function tollgate_private.snapshot_metrics(timestamptz) from public, anon, authenticated, service_role;
