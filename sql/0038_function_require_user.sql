create function tollgate_private.require_user(action text, allow_anonymous boolean default false)
returns uuid
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_user_id uuid := tollgate_private.caller_id();
begin
  if v_user_id is null then
    perform tollgate_private.raise_error('NOJWT', 'Sign in to ' || require_user.action);
  end if;
  -- Anonymous sign-ins cost nothing to make: what they could take, anyone could take over and over.
  if not require_user.allow_anonymous and tollgate_private.is_anonymous() then
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
