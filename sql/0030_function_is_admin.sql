-- Policy helper: invoker, reads only the caller's own JWT.
create function tollgate_private.is_admin()
returns boolean
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  -- auth.jwt()'s own definition (supabase/auth), in plpgsql for the reason given in
  -- 0035_function_caller_id.sql: a SQL function with a pinned search_path is planned on every call.
  return coalesce((
    coalesce(
      nullif(current_setting('request.jwt.claim', true), ''),
      nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb -> 'app_metadata' ->> 'role') = 'admin', false);
end;
$$;

comment on function tollgate_private.is_admin() is
  E'True when the caller''s JWT carries app_metadata.role = admin. Admins read every Tollgate row.';

revoke all on function tollgate_private.is_admin() from public, anon, authenticated, service_role;

grant execute on function tollgate_private.is_admin() to authenticated, service_role;
