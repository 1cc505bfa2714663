create function tollgate_private.create_api_key_of_caller(
  name text,
  scopes text[],
  expires_at timestamptz
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := tollgate_private.require_user('make an API key');
  v_scopes text[];
  v_expired bigint;
  v_quota jsonb;
  v_prefix text;
  v_key text;
  v_row tollgate.api_keys;
begin
  if create_api_key_of_caller.name is null or char_length(btrim(create_api_key_of_caller.name)) not between 1 and 100 then
    perform tollgate_private.raise_error('BADRQ', 'name must be 1 to 100 characters');
  end if;
  -- Stored in one order, without repeats.
  v_scopes := array(
    select s from unnest(array['consume', 'read']) s where s = any (create_api_key_of_caller.scopes));
  if create_api_key_of_caller.scopes is null or cardinality(v_scopes) = 0
    or exists (select from unnest(create_api_key_of_caller.scopes) s where s is null or s not in ('consume', 'read')) then
    perform tollgate_private.raise_error('BADRQ', 'scopes must be one or both of consume and read',
      detail => format('got %s', coalesce(create_api_key_of_caller.scopes::text, 'null')));
  end if;
  if create_api_key_of_caller.expires_at is not null and create_api_key_of_caller.expires_at <= now() then
    perform tollgate_private.raise_error('BADRQ', 'expires_at must be in the future');
  end if;

  -- Keys that have expired stop counting against the plan's api_keys limit: revoked at their expiry.
  with expired as (
    update tollgate.api_keys k
    set revoked_at = k.expires_at
    where k.user_id = v_user_id and k.revoked_at is null and k.expires_at <= now()
    returning k.id
  )
  select count(*) into v_expired from expired;
  if v_expired > 0 then
    perform tollgate_private.release_usage(v_user_id, 'api_keys', v_expired, null, now());
  end if;

  -- The api_keys gauge: counted under its counter's row lock, so two makes at once never pass the limit.
  v_quota := tollgate_private.consume_usage(v_user_id, 'api_keys', 1, null, now());
  if not (v_quota ->> 'allowed')::boolean then
    perform tollgate_private.raise_error('QUOTA',
      format('Your plan allows %s API keys and you have %s', v_quota ->> 'quota', v_quota ->> 'used'),
      detail => v_quota::text,
      hint => 'Revoke a key you no longer use, or upgrade the plan.');
  end if;

  -- 256 random bits: SHA-256 of three version-4 UUIDs (366 bits of pg_strong_random), base64url.
  -- The prefix (12 hex digits of another UUID's random part) finds the key; only its hash is kept.
  v_prefix := 'tg_' || left(replace(gen_random_uuid()::text, '-', ''), 12);
  v_key := v_prefix || '_' || translate(encode(sha256(convert_to(
    gen_random_uuid()::text || gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 'base64'), '+/=', '-_');

  insert into tollgate.api_keys (user_id, name, prefix, scopes, expires_at)
  values (v_user_id, btrim(create_api_key_of_caller.name), v_prefix, v_scopes, create_api_key_of_caller.expires_at)
  returning * into v_row;
  insert into tollgate_private.api_key_secrets (key_id, hash)
  values (v_row.id, sha256(convert_to(v_key, 'UTF8')));

  perform tollgate_private.audit('api_keys', v_row.id, v_user_id, 'insert', null,
    jsonb_build_object('name', v_row.name, 'prefix', v_row.prefix, 'scopes', v_row.scopes,
      'expires_at', v_row.expires_at),
    null);

  return jsonb_build_object('id', v_row.id, 'key', v_key, 'prefix', v_row.prefix, 'name', v_row.name,
    'scopes', v_row.scopes, 'created_at', v_row.created_at, 'expires_at', v_row.expires_at);
end;
$$;

comment on function tollgate_private.create_api_key_of_caller(text, text[], timestamptz) is
  E'Makes an API key for the signed-in caller and answers {id, key, prefix, name, scopes, created_at, expires_at}: the key is in no table and is shown only here. Counts one of the plan''s api_keys gauge (QUOTA past it; the caller''s expired keys are revoked first, giving theirs back); BADRQ for a blank name, unknown scopes or a past expiry; audited. What tollgate.create_api_key runs.';

revoke all on function tollgate_private.create_api_key_of_caller(text, text[], timestamptz) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.create_api_key_of_caller(text, text[], timestamptz) to authenticated;
