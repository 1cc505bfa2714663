create function tollgate_private.unix_time(value jsonb)
returns timestamptz
language sql
immutable
security invoker
set search_path = ''
as $$
  select case when jsonb_typeof(unix_time.value) = 'number' then to_timestamp((unix_time.value)::text::double precision) end
$$;

comment on function tollgate_private.unix_time(jsonb) is
  E'A provider timestamp (seconds since 1970 as a JSON number) as timestamptz; null for JSON null or anything else.';

revoke all on function tollgate_private.unix_time(jsonb) from public, anon, authenticated, service_role;
