create function tollgate_private.usage_of(for_user_id uuid)
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
begin
  -- Admins and the service role only (ANONY, NOADM otherwise): the one check every admin function makes.
  perform tollgate_private.require_admin('usage_of');
  if not exists (select from auth.users u where u.id = usage_of.for_user_id) then
    perform tollgate_private.raise_error('NOUSR',
      format('Unknown user %s', coalesce(usage_of.for_user_id::text, '(null)')),
      hint => 'The user must exist in auth.users.');
  end if;
  -- One user's rows and nothing else (primary-key and user_id lookups): the cost does not grow with
  -- the number of users, unlike an admin's read of tollgate.usage filtered by user_id.
  return query select r.* from tollgate_private.usage_rows(usage_of.for_user_id, now()) r;
end;
$$;

comment on function tollgate_private.usage_of(uuid) is
  E'One user''s usage rows now (the columns of tollgate.usage), for admins and the service role: others get NOADM, anonymous users ANONY, an unknown user NOUSR. What tollgate.usage_of runs.';

revoke all on function tollgate_private.usage_of(uuid) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.usage_of(uuid) to authenticated, service_role;
