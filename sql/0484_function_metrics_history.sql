create function tollgate_private.metrics_history(from_day date, to_day date)
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
security definer
set search_path = ''
as $$
begin
  perform tollgate_private.require_admin('metrics_history');
  if metrics_history.from_day is null or metrics_history.to_day is null
    or metrics_history.to_day < metrics_history.from_day
    or metrics_history.to_day - metrics_history.from_day > 3660 then
    perform tollgate_private.raise_error('BADRQ', 'from_day and to_day must be given, in order, at most 10 years apart');
  end if;
  return query
  select m.day, m.currency, m.mrr, m.active_subscriptions, m.new_subscriptions, m.churned_subscriptions
  from tollgate_private.metrics_daily m
  where m.day between metrics_history.from_day and metrics_history.to_day
  order by m.day, m.currency;
end;
$$;

comment on function tollgate_private.metrics_history(date, date) is
  E'What tollgate.metrics_history runs: require_admin, then the daily rows between the two days.';

revoke all on function tollgate_private.metrics_history(date, date) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.metrics_history(date, date) to authenticated, service_role;
