create function tollgate.create_api_key(
  name text,
  scopes text[] default '{consume,read}',
  expires_at timestamptz default null
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  return tollgate_private.create_api_key_of_caller(create_api_key.name, create_api_key.scopes,
    create_api_key.expires_at);
end;
$$;

comment on function tollgate.create_api_key(text, text[], timestamptz) is
  E'Makes an API key for the signed-in user: {id, key, prefix, name, scopes, created_at, expires_at}. The key (tg_...) is shown this once; only its SHA-256 hash is stored. scopes: consume (POST /metering/consume) and/or read (GET /metering/usage). Counts against the plan''s api_keys limit (QUOTA past it).';

revoke all on function tollgate.create_api_key(text, text[], timestamptz) from public, anon, authenticated, service_role;

grant execute on function tollgate.create_api_key(text, text[], timestamptz) to authenticated;
