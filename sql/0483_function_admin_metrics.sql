create function tollgate_private.admin_metrics()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform tollgate_private.require_admin('admin_metrics');
  return tollgate_private.revenue_metrics(now());
end;
$$;

comment on function tollgate_private.admin_metrics() is
  E'What tollgate.admin_metrics runs: require_admin, then revenue_metrics(now()).';

revoke all on function tollgate_private.admin_metrics() from public, anon, authenticated, service_role;

grant execute on function tollgate_private.admin_metrics() to authenticated, service_role;
