-- Reads only the caller's own JWT, like is_admin; called by definers before they act.
create function tollgate_private.is_anonymous()
returns boolean
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  -- auth.jwt() ->> 'is_anonymous', in plpgsql for the reason given in 0035_function_caller_id.sql:
  -- a SQL function with a pinned search_path is planned on every call (this one is on the consume path).
  return coalesce((
    coalesce(
      nullif(current_setting('request.jwt.claim', true), ''),
      nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb ->> 'is_anonymous') = 'true', false);
end;
$$;

comment on function tollgate_private.is_anonymous() is
  E'True when the caller signed in anonymously (Supabase anonymous sign-ins carry the JWT claim is_anonymous = true). Anonymous users read plans but cannot consume usage: anyone can make as many as they like.';

revoke all on function tollgate_private.is_anonymous() from public, anon, authenticated, service_role;
