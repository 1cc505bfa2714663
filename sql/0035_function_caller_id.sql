create function tollgate_private.caller_id()
returns uuid
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  -- auth.uid()'s own definition (supabase/auth), in plpgsql: auth.uid() is a SQL function with a
  -- pinned search_path, so Postgres plans it again in every transaction (about 40 us per call on
  -- the consume path). Policies keep using (select auth.uid()), which runs once per statement.
  return coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
  )::uuid;
end;
$$;

comment on function tollgate_private.caller_id() is
  E'The signed-in user''s id from the request''s JWT claims, exactly as auth.uid() reads it; null when nobody is signed in.';

revoke all on function tollgate_private.caller_id() from public, anon, authenticated, service_role;
