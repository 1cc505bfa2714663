create function tollgate.service_role_limit_request(
  user_id uuid default null,
  api_key text default null,
  metric text default 'requests',
  scope text default null
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_user_id uuid := service_role_limit_request.user_id;
  v_key_id uuid;
begin
  if (v_user_id is null) = (service_role_limit_request.api_key is null) then
    perform tollgate_private.raise_error('BADRQ', 'Give either user_id or api_key');
  end if;
  if service_role_limit_request.api_key is not null then
    select a.user_id, a.key_id into v_user_id, v_key_id
    from tollgate_private.authenticate_api_key(service_role_limit_request.api_key,
      service_role_limit_request.scope) a;
  end if;
  return tollgate_private.limit_request(v_user_id, service_role_limit_request.metric, now())
    || jsonb_build_object('user_id', v_user_id, 'key_id', v_key_id);
end;
$$;

comment on function tollgate.service_role_limit_request(uuid, text, text, text) is
  E'For an app''s own servers (the rateLimit middleware of @tollgate/core): counts one request of a user, given by user_id or by an API key (BDKEY when bad; KSCOP when scope is given and the key lacks it), against an hourly metric (default requests) and answers {allowed, limit, remaining, reset, retry_after, user_id, key_id}. A refused request counts nothing.';

revoke all on function tollgate.service_role_limit_request(uuid, text, text, text) from public, anon, authenticated, service_role;

grant execute on function tollgate.service_role_limit_request(uuid, text, text, text) to service_role;
