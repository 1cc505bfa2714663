create function tollgate.usage_of(user_id uuid)
returns setof tollgate.usage
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  -- plpgsql keeps its plan between calls; a SQL function with a pinned search_path would not.
  return query
    select u.user_id, u.metric, u.period, u.period_start, u.period_end, u.used, u.quota, u.remaining, u.credits
    from tollgate_private.usage_of(usage_of.user_id) u;
end;
$$;

comment on function tollgate.usage_of(uuid) is
  E'One user''s usage now: the rows tollgate.usage shows for that user, computed for that user alone, so the cost does not grow with the number of users. For admins (JWT app_metadata.role = admin) and the service role; others get 403 NOADM, anonymous users 403 ANONY, an unknown user 404 NOUSR.';

revoke all on function tollgate.usage_of(uuid) from public, anon, authenticated, service_role;

grant execute on function tollgate.usage_of(uuid) to authenticated, service_role;
