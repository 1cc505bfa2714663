create function tollgate.custom_access_token_hook(event jsonb)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_user_id uuid;
begin
  -- Never fails a sign-in: an event this hook cannot read goes back unchanged.
  if jsonb_typeof(custom_access_token_hook.event -> 'claims') is distinct from 'object' then
    return custom_access_token_hook.event;
  end if;
  begin
    v_user_id := (custom_access_token_hook.event ->> 'user_id')::uuid;
  exception when invalid_text_representation then
    return custom_access_token_hook.event;
  end;
  return jsonb_set(custom_access_token_hook.event, '{claims,tollgate_plan}',
    to_jsonb(tollgate_private.plan_claim_of(v_user_id)));
end;
$$;

comment on function tollgate.custom_access_token_hook(jsonb) is
  E'Supabase Auth''s custom access token hook: adds the claim tollgate_plan (the user''s plan id now) to every access token issued. Enable it in config.toml ([auth.hook.custom_access_token], uri pg-functions://postgres/tollgate/custom_access_token_hook) or the dashboard (Authentication > Hooks). A plan change shows in the token at its next refresh. Executable by supabase_auth_admin only.';

revoke all on function tollgate.custom_access_token_hook(jsonb) from public, anon, authenticated, service_role;

grant usage on schema tollgate to supabase_auth_admin;
grant execute on function tollgate.custom_access_token_hook(jsonb) to supabase_auth_admin;
