create function tollgate_private.revoke_api_key_of_caller(id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := tollgate_private.require_user('revoke an API key', allow_anonymous => true);
  v_row tollgate.api_keys;
begin
  select k.* into v_row from tollgate.api_keys k where k.id = revoke_api_key_of_caller.id for update;
  -- Someone else's key is as unknown as a missing one: ids of other users' keys are not confirmed.
  if v_row.id is null or (v_row.user_id <> v_user_id and not tollgate_private.is_admin()) then
    perform tollgate_private.raise_error('NOKEY', 'Unknown API key',
      detail => format('id %s', revoke_api_key_of_caller.id));
  end if;
  -- Revoking twice changes nothing and gives back nothing twice.
  if v_row.revoked_at is null then
    update tollgate.api_keys k set revoked_at = now() where k.id = v_row.id returning k.* into v_row;
    perform tollgate_private.release_usage(v_row.user_id, 'api_keys', 1, null, now());
    perform tollgate_private.audit('api_keys', v_row.id, v_row.user_id, 'update',
      jsonb_build_object('revoked_at', null), jsonb_build_object('revoked_at', v_row.revoked_at), null);
  end if;
  return to_jsonb(v_row);
end;
$$;

comment on function tollgate_private.revoke_api_key_of_caller(uuid) is
  E'Revokes one of the caller''s API keys (admins: anyone''s) at once: the next request with it gets BDKEY. Gives back one of the api_keys gauge; a second revoke changes nothing. NOKEY for an unknown key or someone else''s. Answers the key''s row. What tollgate.revoke_api_key runs.';

revoke all on function tollgate_private.revoke_api_key_of_caller(uuid) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.revoke_api_key_of_caller(uuid) to authenticated;
