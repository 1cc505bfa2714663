create function tollgate.metrics_history(from_day date, to_day date)
returns table (
  day date,
  currency text,
  mrr bigint,
  active_subscriptions integer,
  new_subscriptions integer,
  churned_subscriptions integer
)
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  return query select h.* from tollgate_private.metrics_history(metrics_history.from_day, metrics_history.to_day) h;
end;
$$;

comment on function tollgate.metrics_history(date, date) is
  E'Daily revenue figures per currency between two UTC days (inclusive), as at the end of each day: mrr, active (paying) subscriptions, new and churned paying users that day (definitions as in tollgate.admin_metrics). Written by maintenance once a day; today is not in it until tomorrow. Admins and the service role only (others 403 NOADM).';

revoke all on function tollgate.metrics_history(date, date) from public, anon, authenticated, service_role;

grant execute on function tollgate.metrics_history(date, date) to authenticated, service_role;
