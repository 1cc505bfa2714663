create function tollgate_private.caller_role()
returns text
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  -- auth.role()'s own definition (supabase/auth), in plpgsql, for the reason given in
  -- 0035_function_caller_id.sql (a SQL function with a pinned search_path is planned on every
  -- call: ~22 us an audit row on the webhook path); without a JWT, the database session's user.
  return coalesce(nullif(coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role'), ''), session_user::text);
end;
$$;

comment on function tollgate_private.caller_role() is
  E'The role the request''s JWT claims (as auth.role() reads it), else the database session''s user: the actor_role of audit rows written for a request.';

revoke all on function tollgate_private.caller_role() from public, anon, authenticated, service_role;
