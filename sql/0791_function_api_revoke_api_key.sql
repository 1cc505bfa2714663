create function tollgate.revoke_api_key(id uuid)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  return tollgate_private.revoke_api_key_of_caller(revoke_api_key.id);
end;
$$;

comment on function tollgate.revoke_api_key(uuid) is
  E'Revokes one of the signed-in user''s API keys (admins: anyone''s): it stops working at once and no longer counts against the plan''s api_keys limit. Revoking again changes nothing. Answers the key''s row.';

revoke all on function tollgate.revoke_api_key(uuid) from public, anon, authenticated, service_role;

grant execute on function tollgate.revoke_api_key(uuid) to authenticated;
