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
    case p."interval" when 'year' then p.amount::numeric / 12 else p.amount::numeric end
  from (
    select distinct on (a.record_id) a.record_id, a.new_values ->> 'plan_id' as plan_id,
      a.new_values ->> 'status' as status
    from tollgate_private.audit_log a
    where a.table_name = 'subscriptions' and a.occurred_at <= subscription_states_at.as_of
    order by a.record_id, a.occurred_at desc, a.id desc
  ) st
  join tollgate.subscriptions s on s.id = st.record_id
  join tollgate.plans p on p.id = st.plan_id
  where st.status is not null;
end;
$$;

comment on function tollgate_private.subscription_states_at(timestamptz) is
  E'Every subscription''s plan and status as they were at as_of, rebuilt from the audit trail, with the plan''s currency and its monthly amount (yearly plans / 12, unrounded). The basis of admin_metrics and the daily history.';

revoke all on function tollgate_private.subscription_states_at(timestamptz) from public, anon, authenticated, service_role;
