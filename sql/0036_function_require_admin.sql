create function tollgate_private.require_admin(action text)
returns void
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  if tollgate_private.is_anonymous() then
    perform tollgate_private.raise_error('ANONY',
      'Anonymous users cannot do this: sign in with an account');
  end if;
  -- Admins (app_metadata.role in the verified JWT) and the service role as the database role, never a
  -- role claim alone; 'none' is a session of the owner itself (psql, Studio's SQL editor), no API role.
  if not (tollgate_private.is_admin() or pg_catalog.current_setting('role') in ('service_role', 'none')) then
    perform tollgate_private.raise_error('NOADM', 'Admins only',
      hint => format('%s is for admins (JWT app_metadata.role = admin) and the service role.', require_admin.action));
  end if;
end;
$$;

comment on function tollgate_private.require_admin(text) is
  E'Raises NOADM (403) unless the caller is an admin (JWT app_metadata.role = admin) or the service role (or the owner in Studio''s SQL editor); ANONY for anonymous users. Admin functions call it first.';

revoke all on function tollgate_private.require_admin(text) from public, anon, authenticated, service_role;
