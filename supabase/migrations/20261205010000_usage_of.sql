-- tollgate.usage_of(user_id): one user's usage for admins and the service role, at a cost that does
-- not grow with the number of users (REVIEW M-5). The usage view trusts the database role, not a
-- role claim (L-2). Anonymous users (JWT is_anonymous) may not consume (ANONY); NOADM and ANONY
-- answer 403 through PostgREST.
-- Same text as the files in sql/ named below; `create or replace` keeps privileges and comments.

-- ==== sql/0032_function_is_anonymous.sql
-- Reads only the caller's own JWT, like is_admin; called by definers before they act.
create or replace function tollgate_private.is_anonymous()
returns boolean
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  -- auth.jwt() ->> 'is_anonymous', in plpgsql for the reason given in 0035_function_caller_id.sql:
  -- a SQL function with a pinned search_path is planned on every call (this one is on the consume path).
  return coalesce((
    coalesce(
      nullif(current_setting('request.jwt.claim', true), ''),
      nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb ->> 'is_anonymous') = 'true', false);
end;
$$;

comment on function tollgate_private.is_anonymous() is
  E'True when the caller signed in anonymously (Supabase anonymous sign-ins carry the JWT claim is_anonymous = true). Anonymous users read plans but cannot consume usage: anyone can make as many as they like.';

revoke all on function tollgate_private.is_anonymous() from public, anon, authenticated, service_role;

-- ==== sql/0060_function_raise_error.sql
create or replace function tollgate_private.raise_error(
  code text,
  message text,
  detail text default null,
  hint text default null
)
returns void
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  -- The HTTP status of each code Tollgate's SQL raises, as the registry (packages/core/src/errors.ts)
  -- gives it; tests/schema/every_custom_sqlstate_is_in_the_error_registry.test.ts keeps them equal.
  v_status integer := case raise_error.code
    when 'INAMT' then 400
    when 'BADKY' then 400
    when 'NOOWN' then 400
    when 'NOJWT' then 401
    when 'NOADM' then 403
    when 'ANONY' then 403
    when 'NOUSR' then 404
    when 'NOMET' then 404
    when 'IDKEY' then 409
    when 'GAUGE' then 422
    when 'QUOTA' then 429
    when 'TGCFG' then 500
    else 500
  end;
begin
  -- PostgREST sets request.method on every request and answers any custom SQLSTATE with 400, so
  -- another status must take its `raise sqlstate 'PGRST'` form: the body as JSON in the message,
  -- {status, headers} in the detail. Everyone else (SQL, edge functions) keeps the mnemonic.
  if v_status <> 400 and coalesce(pg_catalog.current_setting('request.method', true), '') <> '' then
    raise sqlstate 'PGRST'
      using message = pg_catalog.jsonb_build_object(
              'code', raise_error.code,
              'message', raise_error.message,
              'details', raise_error.detail,
              'hint', raise_error.hint)::text,
            detail = pg_catalog.jsonb_build_object(
              'status', v_status,
              'headers', case
                when v_status = 401 then pg_catalog.jsonb_build_object('WWW-Authenticate', 'Bearer')
                else '{}'::jsonb
              end)::text;
  end if;
  -- A null RAISE option is an error of its own, and an empty one would reach clients as "".
  if raise_error.detail is null and raise_error.hint is null then
    raise exception using errcode = raise_error.code, message = raise_error.message;
  elsif raise_error.hint is null then
    raise exception using errcode = raise_error.code, message = raise_error.message,
      detail = raise_error.detail;
  elsif raise_error.detail is null then
    raise exception using errcode = raise_error.code, message = raise_error.message,
      hint = raise_error.hint;
  else
    raise exception using errcode = raise_error.code, message = raise_error.message,
      detail = raise_error.detail, hint = raise_error.hint;
  end if;
end;
$$;

comment on function tollgate_private.raise_error(text, text, text, text) is
  E'Raises a Tollgate error (code from the registry, e.g. NOMET): as SQLSTATE code for SQL callers, and inside a PostgREST request, when its HTTP status is not 400, in PostgREST''s PGRST form so the API answers that status with the body {code, message, details, hint}.';

revoke all on function tollgate_private.raise_error(text, text, text, text) from public, anon, authenticated, service_role;

-- ==== sql/0400_function_consume_usage_of_caller.sql
create or replace function tollgate_private.consume_usage_of_caller(metric text, amount bigint, idempotency_key text)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := tollgate_private.caller_id();
begin
  if v_user_id is null then
    perform tollgate_private.raise_error('NOJWT', 'Sign in to consume usage');
  end if;
  -- Anonymous sign-ins cost nothing to make: each one's free quota would be usage for the taking.
  if tollgate_private.is_anonymous() then
    perform tollgate_private.raise_error('ANONY',
      'Anonymous users cannot do this: sign in with an account',
      hint => 'Link an email, phone or OAuth identity to the anonymous user first.');
  end if;
  -- The caller never chooses the time: a client must not move its own period.
  return tollgate_private.consume_usage(
    v_user_id, consume_usage_of_caller.metric, consume_usage_of_caller.amount,
    consume_usage_of_caller.idempotency_key, now());
end;
$$;

comment on function tollgate_private.consume_usage_of_caller(text, bigint, text) is
  E'consume_usage for the signed-in caller (auth.uid()) at the current time; what tollgate.consume_usage runs. Anonymous users (JWT is_anonymous) are refused with ANONY.';

revoke all on function tollgate_private.consume_usage_of_caller(text, bigint, text) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.consume_usage_of_caller(text, bigint, text) to authenticated;

-- ==== sql/0420_function_usage_of_caller.sql
create or replace function tollgate_private.usage_of_caller()
returns table (
  user_id uuid,
  metric text,
  period text,
  period_start timestamptz,
  period_end timestamptz,
  used bigint,
  quota bigint,
  remaining bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := tollgate_private.caller_id();
begin
  -- Decided once per call, not per row of auth.users. The database role decides (PostgREST sets it
  -- from the verified token), never a role claim alone: such claims beside role authenticated are a user.
  if tollgate_private.is_admin() or pg_catalog.current_setting('role') = 'service_role' then
    return query
      select r.* from auth.users u cross join lateral tollgate_private.usage_rows(u.id, now()) r;
  elsif v_user_id is not null then
    return query select r.* from tollgate_private.usage_rows(v_user_id, now()) r;
  end if;
end;
$$;

comment on function tollgate_private.usage_of_caller() is
  E'Rows of the tollgate.usage view: the caller''s own usage now; every user''s for admins and the service role (the database role service_role, as PostgREST sets it; a role claim alone is not enough). For one user''s rows, tollgate.usage_of is the cheap read.';

revoke all on function tollgate_private.usage_of_caller() from public, anon, authenticated, service_role;

grant execute on function tollgate_private.usage_of_caller() to authenticated, service_role;

-- ==== sql/0425_function_usage_of.sql
create or replace function tollgate_private.usage_of(for_user_id uuid)
returns table (
  user_id uuid,
  metric text,
  period text,
  period_start timestamptz,
  period_end timestamptz,
  used bigint,
  quota bigint,
  remaining bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if tollgate_private.is_anonymous() then
    perform tollgate_private.raise_error('ANONY',
      'Anonymous users cannot do this: sign in with an account');
  end if;
  -- Admins (app_metadata.role in the verified JWT) and the service role as the database role, never a
  -- role claim alone; 'none' is a session of the owner itself (psql, Studio's SQL editor), no API role.
  if not (tollgate_private.is_admin() or pg_catalog.current_setting('role') in ('service_role', 'none')) then
    perform tollgate_private.raise_error('NOADM', 'Admins only',
      hint => 'Signed-in users read their own usage from tollgate.usage.');
  end if;
  if not exists (select from auth.users u where u.id = usage_of.for_user_id) then
    perform tollgate_private.raise_error('NOUSR',
      format('Unknown user %s', coalesce(usage_of.for_user_id::text, '(null)')),
      hint => 'The user must exist in auth.users.');
  end if;
  -- One user's rows and nothing else (primary-key and user_id lookups): the cost does not grow with
  -- the number of users, unlike an admin's read of tollgate.usage filtered by user_id.
  return query select r.* from tollgate_private.usage_rows(usage_of.for_user_id, now()) r;
end;
$$;

comment on function tollgate_private.usage_of(uuid) is
  E'One user''s usage rows now (the columns of tollgate.usage), for admins and the service role: others get NOADM, anonymous users ANONY, an unknown user NOUSR. What tollgate.usage_of runs.';

revoke all on function tollgate_private.usage_of(uuid) from public, anon, authenticated, service_role;

grant execute on function tollgate_private.usage_of(uuid) to authenticated, service_role;

-- ==== sql/0730_function_api_usage_of.sql
create or replace function tollgate.usage_of(user_id uuid)
returns setof tollgate.usage
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  -- plpgsql keeps its plan between calls; a SQL function with a pinned search_path would not.
  return query
    select u.user_id, u.metric, u.period, u.period_start, u.period_end, u.used, u.quota, u.remaining
    from tollgate_private.usage_of(usage_of.user_id) u;
end;
$$;

comment on function tollgate.usage_of(uuid) is
  E'One user''s usage now: the rows tollgate.usage shows for that user, computed for that user alone, so the cost does not grow with the number of users. For admins (JWT app_metadata.role = admin) and the service role; others get 403 NOADM, anonymous users 403 ANONY, an unknown user 404 NOUSR.';

revoke all on function tollgate.usage_of(uuid) from public, anon, authenticated, service_role;

grant execute on function tollgate.usage_of(uuid) to authenticated, service_role;
