-- Policy helper: invoker, reads only the caller's own JWT.
create function tollgate_private.is_admin()
returns boolean
language sql
stable
security invoker
set search_path = ''
as $$
  select coalesce((auth.jwt() -> 'app_metadata' ->> 'role') = 'admin', false)
$$;

comment on function tollgate_private.is_admin() is
  E'True when the caller''s JWT carries app_metadata.role = admin. Admins read every Tollgate row.';

revoke all on function tollgate_private.is_admin() from public, anon, authenticated, service_role;

grant execute on function tollgate_private.is_admin() to authenticated, service_role;
