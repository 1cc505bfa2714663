create function tollgate_private.subscription_states_at(as_of timestamptz)
returns table (
  subscription_id uuid,
  user_id uuid,
  provider text,
  plan_id text,
  status text,
  currency text,
  monthly_amount numeric
)
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  -- The audit trail holds every new subscription and every change of its plan or status, so the
  -- newest audit row at or before as_of is the subscription's state then.
  return query
  select s.id, s.user_id, s.provider, st.plan_id, st.status, p.currency,
    -- The plan's price less a recurring discount still running at as_of (repeating within its
    -- months, forever; a once coupon is not recurring revenue), then yearly plans / 12.
    (case
      when d.discount ->> 'percent_off' is not null
        then p.amount::numeric * (100 - (d.discount ->> 'percent_off')::numeric) / 100
      when d.discount ->> 'amount_off' is not null and d.discount ->> 'currency' = p.currency
        then greatest(p.amount - (d.discount ->> 'amount_off')::bigint, 0)::numeric
      else p.amount::numeric
    end) / case p."interval" when 'year' then 12 else 1 end
  from (
    select distinct on (a.record_id) a.record_id, a.new_values ->> 'plan_id' as plan_id,
      a.new_values ->> 'status' as status
    from tollgate_private.audit_log a
    where a.table_name = 'subscriptions' and a.occurred_at <= subscription_states_at.as_of
    order by a.record_id, a.occurred_at desc, a.id desc
  ) st
  join tollgate.subscriptions s on s.id = st.record_id
  join tollgate.plans p on p.id = st.plan_id
  -- Only subscriptions that pay need their discount looked up.
  cross join lateral (
    select case when st.status in ('active', 'past_due') and s.provider in ('stripe', 'razorpay')
      then tollgate_private.subscription_discount(s.id, subscription_states_at.as_of) end as discount
  ) d
  where st.status is not null;
end;
$$;

comment on function tollgate_private.subscription_states_at(timestamptz) is
  E'Every subscription''s plan and status as they were at as_of, rebuilt from the audit trail, with the plan''s currency and its monthly amount: the plan''s price less a recurring coupon discount still running at as_of (subscription_discount), yearly plans / 12, unrounded. The basis of admin_metrics and the daily history.';

revoke all on function tollgate_private.subscription_states_at(timestamptz) from public, anon, authenticated, service_role;
