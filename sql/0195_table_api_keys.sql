create table tollgate.api_keys (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 100),
  prefix text not null check (prefix ~ '^tg_[0-9a-f]{12}$'),
  scopes text[] not null check (cardinality(scopes) > 0 and scopes <@ array['consume', 'read']),
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  expires_at timestamptz,
  revoked_at timestamptz
);

create unique index api_keys_prefix_key on tollgate.api_keys (prefix);
create index api_keys_user_id_idx on tollgate.api_keys (user_id, created_at);

comment on table tollgate.api_keys is
  E'API keys users make for their own servers to call the metering function as themselves (tollgate.create_api_key, tollgate.revoke_api_key). Only a SHA-256 hash of each key is kept, in tollgate_private.api_key_secrets; the owner reads their keys, admins read all.';
comment on index tollgate.api_keys_prefix_key is
  E'A presented key is found by its prefix (its first 15 characters), then checked against the stored hash.';
comment on column tollgate.api_keys.id is E'Key id (what tollgate.revoke_api_key takes).';
comment on column tollgate.api_keys.user_id is E'The owner: every request made with the key is theirs.';
comment on column tollgate.api_keys.name is E'The owner''s name for the key, e.g. production server.';
comment on column tollgate.api_keys.prefix is E'The first 15 characters of the key (tg_ and 12 hex digits), not secret: how a person tells keys apart.';
comment on column tollgate.api_keys.scopes is E'What the key may do: consume (POST /metering/consume), read (GET /metering/usage).';
comment on column tollgate.api_keys.created_at is E'When the key was made.';
comment on column tollgate.api_keys.last_used_at is E'When the key was last used, to the minute (written at most once a minute per key).';
comment on column tollgate.api_keys.expires_at is E'When the key stops working by itself; null: never.';
comment on column tollgate.api_keys.revoked_at is E'When the key was revoked; it stops working at once. Expired keys are revoked (at their expiry) when the owner next makes a key.';

alter table tollgate.api_keys enable row level security;

create policy "Users read their own API keys, admins read all" on tollgate.api_keys
  for select to authenticated
  using (user_id = (select auth.uid()) or (select tollgate_private.is_admin()));

grant select on tollgate.api_keys to authenticated, service_role;
