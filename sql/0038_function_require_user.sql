create function tollgate_private.require_user(action text, allow_anonymous boolean default false)
returns uuid
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  -- The JWT's claims, read once: caller_id's and is_anonymous's definitions (0035, 0032) inline,
  -- as this is the first line of consume_usage's path (two calls fewer, ~10 us).
  v_claims jsonb := nullif(current_setting('request.jwt.claims', true), '')::jsonb;
  v_user_id uuid := coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''), v_claims ->> 'sub')::uuid;
begin
  if v_user_id is null then
    perform tollgate_private.raise_error('NOJWT', 'Sign in to ' || require_user.action);
  end if;
  -- Anonymous sign-ins cost nothing to make: what they could take, anyone could take over and over.
  if not require_user.allow_anonymous and coalesce((coalesce(
      nullif(current_setting('request.jwt.claim', true), '')::jsonb, v_claims) ->> 'is_anonymous') = 'true', false) then
    perform tollgate_private.raise_error('ANONY',
      'Anonymous users cannot do this: sign in with an account',
      hint => 'Link an email, phone or OAuth identity to the anonymous user first.');
  end if;
  return v_user_id;
end;
$$;

comment on function tollgate_private.require_user(text, boolean) is
  E'The signed-in caller''s id (auth.uid()): NOJWT "Sign in to <action>" when nobody is signed in, ANONY for anonymous users unless allow_anonymous. The first line of the _of_caller functions.';

revoke all on function tollgate_private.require_user(text, boolean) from public, anon, authenticated, service_role;
