create function tollgate_private.usage_of_caller()
returns table (
  user_id uuid,
  metric text,
  period text,
  period_start timestamptz,
  period_end timestamptz,
  used bigint,
  quota bigint,
  remaining bigint,
  credits bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := tollgate_private.caller_id();
begin
  -- Decided once per call, not per row of auth.users. The database role decides (PostgREST sets it
  -- from the verified token), never a role claim alone: such claims beside role authenticated are a user.
  if tollgate_private.is_admin() or pg_catalog.current_setting('role') = 'service_role' then
    return query
      select r.* from auth.users u cross join lateral tollgate_private.usage_rows(u.id, now()) r;
  elsif v_user_id is not null then
    return query select r.* from tollgate_private.usage_rows(v_user_id, now()) r;
  end if;
end;
$$;

comment on function tollgate_private.usage_of_caller() is
  E'Rows of the tollgate.usage view: the caller''s own usage now; every user''s for admins and the service role (the database role service_role, as PostgREST sets it; a role claim alone is not enough). For one user''s rows, tollgate.usage_of is the cheap read.';

revoke all on function tollgate_private.usage_of_caller() from public, anon, authenticated, service_role;

grant execute on function tollgate_private.usage_of_caller() to authenticated, service_role;
