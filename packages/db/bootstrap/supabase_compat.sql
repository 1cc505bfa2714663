-- Supabase-compatibility bootstrap: makes a plain Postgres 15 look like a hosted Supabase database
-- to our migrations (API roles, a non-superuser postgres, schemas extensions and auth, auth.users,
-- auth.uid()/role()/email()/jwt()).
-- It is NEVER part of a migration: packages/db applies it, as a superuser, only where schema auth is
-- missing (throwaway test clusters, plain Postgres); Supabase itself already has all of this.
-- Idempotent: every create is guarded, so running it again is harmless.

-- Roles are cluster-wide: another database of the same cluster may have created them already.
do $$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'supabase_admin') then
    create role supabase_admin login superuser createdb createrole replication bypassrls;
  end if;
  if not exists (select from pg_catalog.pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select from pg_catalog.pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select from pg_catalog.pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  -- Supabase Auth's own role: it runs auth hooks such as tollgate.custom_access_token_hook.
  if not exists (select from pg_catalog.pg_roles where rolname = 'supabase_auth_admin') then
    create role supabase_auth_admin noinherit createrole login noreplication;
  end if;
  if not exists (select from pg_catalog.pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
  end if;
  -- As on hosted Supabase, postgres owns the app's objects but is not a superuser, so tests see the
  -- privilege errors production would. An existing postgres (plain Postgres) is left as it is.
  if not exists (select from pg_catalog.pg_roles where rolname = 'postgres') then
    create role postgres login createrole createdb bypassrls;
    alter role postgres set search_path to "$user", public, extensions;
  end if;
end
$$;

grant anon, authenticated, service_role to authenticator;
-- Lets migrations and tests run as postgres and still `set role` to each API role, as PostgREST does.
grant anon, authenticated, service_role to postgres with admin option;

-- Migrations run as postgres and create their own schemas.
do $$
begin
  execute format('grant create on database %I to postgres', current_database());
end
$$;

-- Hosted Supabase grants these on public; nothing of ours lives there, but the host app's might.
grant usage on schema public to postgres, anon, authenticated, service_role;
grant create on schema public to postgres;

create schema if not exists extensions;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;
grant usage on schema extensions to postgres, anon, authenticated, service_role;

-- Owned by supabase_admin as on Supabase (else `supabase db reset` would drop it as one of ours).
create schema if not exists auth authorization supabase_admin;
alter schema auth owner to supabase_admin;

-- The columns of Supabase Auth's users table that apps and triggers commonly read.
create table if not exists auth.users (
  instance_id uuid,
  id uuid primary key default gen_random_uuid(),
  aud varchar(255),
  role varchar(255),
  email varchar(255),
  encrypted_password varchar(255),
  email_confirmed_at timestamptz,
  invited_at timestamptz,
  last_sign_in_at timestamptz,
  raw_app_meta_data jsonb,
  raw_user_meta_data jsonb,
  is_super_admin boolean,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  phone text unique default null,
  phone_confirmed_at timestamptz,
  confirmed_at timestamptz generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
  banned_until timestamptz,
  is_sso_user boolean not null default false,
  deleted_at timestamptz,
  is_anonymous boolean not null default false
);
alter table auth.users owner to supabase_admin;
create index if not exists users_instance_id_idx on auth.users (instance_id);
-- Supabase Auth allows one non-SSO account per email.
create unique index if not exists users_email_partial_key on auth.users (email)
  where is_sso_user = false;
comment on table auth.users is 'Auth: Stores user login data within a secure schema.';

grant usage on schema auth to anon, authenticated, service_role, postgres;
-- As on hosted Supabase: lets postgres reference auth.users(id) and put triggers on it.
grant all on auth.users to postgres, service_role;

-- Current definitions from supabase/auth migrations/20240624145325_recreate_auth_functions.up.sql.
create or replace function auth.uid() returns uuid
  language sql stable
  set search_path = ''
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

create or replace function auth.role() returns text
  language sql stable
  set search_path = ''
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

create or replace function auth.email() returns text
  language sql stable
  set search_path = ''
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;

create or replace function auth.jwt() returns jsonb
  language sql stable
  set search_path = ''
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

alter function auth.uid() owner to supabase_admin;
alter function auth.role() owner to supabase_admin;
alter function auth.email() owner to supabase_admin;
alter function auth.jwt() owner to supabase_admin;

comment on function auth.uid() is 'Deprecated. Use auth.jwt() -> ''sub'' instead.';
comment on function auth.role() is 'Deprecated. Use auth.jwt() -> ''role'' instead.';
comment on function auth.email() is 'Deprecated. Use auth.jwt() -> ''email'' instead.';
comment on function auth.jwt() is 'The claims of the JWT of the current request.';

grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt()
  to anon, authenticated, service_role, postgres;
