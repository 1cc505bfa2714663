create function tollgate_private.authenticate_api_key(
  key text,
  scope text,
  as_of timestamptz default now(),
  out user_id uuid,
  out key_id uuid
)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_hash bytea;
  v_scopes text[];
  v_expires_at timestamptz;
  v_revoked_at timestamptz;
  v_last_used_at timestamptz;
begin
  -- One answer for every way a key can be bad, so that a caller learns nothing about which.
  if authenticate_api_key.key is null or authenticate_api_key.key !~ '^tg_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$' then
    perform tollgate_private.raise_error('BDKEY', 'The API key is invalid, revoked or expired');
  end if;
  select k.user_id, k.id, s.hash, k.scopes, k.expires_at, k.revoked_at, k.last_used_at
  into authenticate_api_key.user_id, authenticate_api_key.key_id, v_hash, v_scopes, v_expires_at,
    v_revoked_at, v_last_used_at
  from tollgate.api_keys k
  join tollgate_private.api_key_secrets s on s.key_id = k.id
  where k.prefix = left(authenticate_api_key.key, 15);
  -- The digests are compared bit by bit in full (bit_count of their XOR), never stopping at the
  -- first difference, so the time taken says nothing about how close a guess came.
  if v_hash is null
    or pg_catalog.bit_count(('x' || encode(v_hash, 'hex'))::bit(256)
      # ('x' || encode(sha256(convert_to(authenticate_api_key.key, 'UTF8')), 'hex'))::bit(256)) <> 0
    or v_revoked_at is not null
    or v_expires_at <= authenticate_api_key.as_of then
    perform tollgate_private.raise_error('BDKEY', 'The API key is invalid, revoked or expired');
  end if;
  if authenticate_api_key.scope is not null and not (authenticate_api_key.scope = any (v_scopes)) then
    perform tollgate_private.raise_error('KSCOP',
      format('This API key does not allow %s', authenticate_api_key.scope),
      hint => 'Make a key with that scope: tollgate.create_api_key(name, scopes).');
  end if;
  -- last_used_at to the minute: one write per key a minute, not one per request.
  if v_last_used_at is null or v_last_used_at < now() - interval '1 minute' then
    update tollgate.api_keys k set last_used_at = now()
    where k.id = authenticate_api_key.key_id
      and (k.last_used_at is null or k.last_used_at < now() - interval '1 minute');
  end if;
end;
$$;

comment on function tollgate_private.authenticate_api_key(text, text, timestamptz) is
  E'The owner and id of a presented API key: found by its prefix, its SHA-256 compared in full with the stored one; BDKEY for a malformed, unknown, revoked or expired (at as_of, default now) key (one answer for all), KSCOP when scope is given and the key lacks it. Stamps last_used_at at most once a minute.';

revoke all on function tollgate_private.authenticate_api_key(text, text, timestamptz) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.authenticate_api_key(text, text, timestamptz) to service_role;
