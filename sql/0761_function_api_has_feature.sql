create function tollgate.has_feature(feature text)
returns boolean
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  return exists (
    select from tollgate.plan_features f
    where f.plan_id = tollgate_private.plan_of_caller() and f.feature = has_feature.feature);
end;
$$;

comment on function tollgate.has_feature(text) is
  E'Whether your plan now includes the feature (tollgate.plan_features). Stable: in your own RLS policies write (select tollgate.has_feature(''export'')) so Postgres runs it once per statement, not once per row.';

revoke all on function tollgate.has_feature(text) from public, anon, authenticated, service_role;

grant execute on function tollgate.has_feature(text) to authenticated, service_role;
