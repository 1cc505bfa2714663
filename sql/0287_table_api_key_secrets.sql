create table tollgate_private.api_key_secrets (
  key_id uuid primary key references tollgate.api_keys (id) on delete cascade,
  hash bytea not null check (length(hash) = 32)
);

comment on table tollgate_private.api_key_secrets is
  E'The SHA-256 hash of each API key (never the key itself), apart from tollgate.api_keys so that no client role can read it.';
comment on column tollgate_private.api_key_secrets.key_id is E'The key (tollgate.api_keys.id).';
comment on column tollgate_private.api_key_secrets.hash is E'SHA-256 of the whole key text (tg_...): 32 bytes.';

alter table tollgate_private.api_key_secrets enable row level security;

-- Only Tollgate's own functions (running as the owner) read or write it.
create policy "Clients never read or write API key secrets" on tollgate_private.api_key_secrets
  as restrictive
  for all to anon, authenticated
  using (false)
  with check (false);
