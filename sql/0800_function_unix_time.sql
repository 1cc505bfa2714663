-- plpgsql, not sql: a SQL function with a pinned search_path is never inlined, so Postgres parsed
-- and planned it on every call (15 to 20 us, 6.6 calls per webhook event); plpgsql keeps its plan.
create function tollgate_private.unix_time(value jsonb)
returns timestamptz
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  return case when jsonb_typeof(unix_time.value) = 'number' then to_timestamp((unix_time.value)::text::double precision) end;
end;
$$;

comment on function tollgate_private.unix_time(jsonb) is
  E'A provider timestamp (seconds since 1970 as a JSON number) as timestamptz; null for JSON null or anything else.';

revoke all on function tollgate_private.unix_time(jsonb) from public, anon, authenticated, service_role;
