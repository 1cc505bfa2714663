create function tollgate_private.raise_error(
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
